function main(args)
	local payload = {
		collection = 'mongoplugin',
		query = {
			age = {
				['$gt'] = 50
			}
		}
	}

	return call('docs', 'query', payload)
end
