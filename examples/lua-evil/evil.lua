function main(args)
	strings = {}
	while true do
		table.insert(strings, 'evil')
	end
end
