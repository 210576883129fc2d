function getAge()
	return math.floor(math.random() * 100)
end

function main(args)
	if args.name == nil then
		args.name = 'noname'
	end

	local payload = {
		collection = 'mongoplugin',
		data = {
			name = args.name,
			age = getAge()
		}
	}

	return call('docs', 'insert', payload)
end
