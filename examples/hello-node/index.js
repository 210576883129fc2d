/**
 * A Node-style function: a default export with two parameters gets Node's own request and
 * response. kumo adds `req.payload` (the body, parsed when it is JSON), `req.body` (raw bytes),
 * `req.env` (this function's variables), `res.json(value, status?)` and `res.send(data, status?)`.
 */
export default function hello(req, res) {
  const name = req.payload?.name ?? new URL(req.url, 'http://localhost').searchParams.get('name') ?? 'World';
  res.json({ message: `Hello, ${name}!`, method: req.method });
}
