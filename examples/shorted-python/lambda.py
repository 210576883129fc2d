# ShortedFaaS's plain function in Python: the raw body in, the returned value out.
# Python reserves the word `lambda`, so the function is main(input, environment).
# environment.code sets the HTTP status (default 200); an exception gives a 500.
import json


def main(input, environment):
    if input.strip() == "":
        environment.code = 400
        return "send a JSON body, e.g. {\"name\": \"Ada\"}"
    data = json.loads(input)
    return {"greeting": "Hello, %s!" % data.get("name", "World"), "method": environment.method}
