import json

# Module state survives between requests: instances are warm.
calls = 0


def handler(event, context):
    global calls
    calls += 1
    name = (event.get("queryStringParameters") or {}).get("name", "World")
    print("greeting", name)
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"message": "Hello, %s!" % name, "calls": calls, "function": context.function_name}),
    }
