"""kumo's python shim: the program that runs inside every python instance.

The Instance protocol of DESIGN.md, with the standard library only:
  1. takes the KUMO_* control variables out of os.environ,
  2. imports the function's module once (instances are warm: module state survives requests),
  3. serves HTTP/1.1 on the Unix socket KUMO_SOCKET, one thread per connection,
  4. writes one JSON line on fd 3: {"type":"ready"}, or {"type":"error","code":...} and exits 1.
Lines printed inside an invocation start with "\\x1e<invocation id>\\x1f" so the host can
attribute them. On SIGTERM it stops accepting, lets in-flight requests finish and exits 0.

Handler styles (DESIGN.md): AWS Lambda `handler(event, context)`, and the plain style of
ShortedFaaS, `main(input, environment)` (Python reserves `lambda`), where `input` is the raw
body, the returned value is the response and `environment.code` sets the status.
"""

import base64
import importlib.util
import json
import os
import signal
import socketserver
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

CONTROL_FD = 3
TAG_START = "\x1e"
TAG_END = "\x1f"
CONTROL = (
    "KUMO_SOCKET",
    "KUMO_ENTRY",
    "KUMO_EXPORT",
    "KUMO_STYLE",
    "KUMO_FUNCTION",
    "KUMO_VERSION",
    "KUMO_MEMORY",
    "KUMO_TIMEOUT",
    "KUMO_ENV_KEYS",
    "KUMO_PATHS",
    "KUMO_HOST_SOCKET",
)
# Tried in order when the manifest names no function; the style follows the name.
CANDIDATES = (("handler", "lambda"), ("lambda_handler", "lambda"), ("main", "plain"), ("lambda_", "plain"))

current = threading.local()


# A stem cell's assignment connection, while it waits for the control message that answers it.
ASSIGNMENT = {}


def report(message):
    """Writes the one control message on fd 3 and closes it (or answers a stem cell's assignment)."""
    conn = ASSIGNMENT.pop("conn", None)
    if conn is not None:
        body = json.dumps(message).encode()
        head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n" % len(body)
        try:
            conn.sendall(head.encode() + body)
        finally:
            conn.close()
        return
    try:
        os.write(CONTROL_FD, (json.dumps(message) + "\n").encode())
        os.close(CONTROL_FD)
    except OSError:
        if message.get("type") == "error":
            sys.stderr.write("%s: %s\n" % (message.get("code"), message.get("message")))


def fail(code, message):
    report({"type": "error", "code": code, "message": message})
    sys.stderr.flush()
    os._exit(1)


class TaggedStream:
    """Wraps stdout/stderr: text written inside an invocation is tagged at each line start."""

    def __init__(self, stream):
        self._stream = stream
        self._at_line_start = True
        self._lock = threading.Lock()

    def write(self, text):
        if not isinstance(text, str):
            text = str(text)
        invocation = getattr(current, "id", None)
        with self._lock:
            if invocation is None or text == "":
                if text:
                    self._at_line_start = text.endswith("\n")
                return self._stream.write(text)
            tag = TAG_START + invocation + TAG_END
            pieces = text.split("\n")
            out = []
            for i, piece in enumerate(pieces):
                starts = self._at_line_start if i == 0 else True
                trailing = i == len(pieces) - 1 and piece == ""
                out.append(tag + piece if starts and not trailing else piece)
            self._at_line_start = text.endswith("\n")
            self._stream.write("\n".join(out))
            self._stream.flush()
            return len(text)

    def flush(self):
        self._stream.flush()

    def __getattr__(self, name):
        return getattr(self._stream, name)


class Environment(dict):
    """The plain style's second argument: a dict whose keys also read and write as attributes."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        self[name] = value


class Context:
    """The AWS-style context argument, with the fields handlers commonly read."""

    def __init__(self, invocation_id, deadline, control):
        self.aws_request_id = invocation_id
        self.invocation_id = invocation_id
        self.function_name = control["name"]
        self.function_version = control["version"]
        self.memory_limit_in_mb = control["memory"]
        self.log_group_name = "kumo/" + control["name"]
        self._deadline = deadline

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline - time.time() * 1000))


def await_assignment():
    """Stem cell mode (KUMO_STEM=1): listens on the socket with no function loaded, reports ready
    on fd 3, and returns once the platform's assignment (core/instance-protocol.ts StemAssignment)
    arrived, with os.environ replaced by the one it carries. The next control message answers it."""
    if os.environ.get("KUMO_STEM") != "1":
        return
    import socket

    path = os.environ.get("KUMO_SOCKET", "")
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    report({"type": "ready"})
    conn, _ = listener.accept()
    listener.close()
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            os._exit(1)
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            os._exit(1)
        body += chunk
    env = json.loads(body.decode("utf-8")).get("env", {})
    os.environ.clear()
    os.environ.update({k: v for k, v in env.items() if isinstance(k, str) and isinstance(v, str)})
    ASSIGNMENT["conn"] = conn


def take_control():
    values = {name: os.environ.pop(name, "") for name in CONTROL}
    if not values["KUMO_SOCKET"] or not values["KUMO_ENTRY"]:
        fail("handler_error", "KUMO_SOCKET and KUMO_ENTRY must be set: the shim is started by kumo, not by hand")
    keys = [k for k in values["KUMO_ENV_KEYS"].split(",") if k]
    return {
        "socket": values["KUMO_SOCKET"],
        "entry": values["KUMO_ENTRY"],
        "export": values["KUMO_EXPORT"] or None,
        "style": values["KUMO_STYLE"] or "auto",
        "name": values["KUMO_FUNCTION"],
        "version": values["KUMO_VERSION"],
        "memory": values["KUMO_MEMORY"],
        "timeout_ms": float(values["KUMO_TIMEOUT"] or 30000),
        "vars": {k: os.environ[k] for k in keys if k in os.environ},
        "paths": [p for p in values["KUMO_PATHS"].split(os.pathsep) if p],
    }


def load(control):
    """Imports the entry module and picks the handler, or reports why not and exits."""
    for path in reversed(control["paths"]):
        sys.path.insert(0, path)
    entry = control["entry"]
    module_name = os.path.splitext(os.path.basename(entry))[0]
    try:
        spec = importlib.util.spec_from_file_location(module_name, entry)
        if spec is None or spec.loader is None:
            raise ImportError("cannot load %s" % entry)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    except BaseException as err:  # noqa: BLE001 - any failure at import is the function's
        traceback.print_exc()
        fail("handler_error", "the function failed to load: %s: %s" % (type(err).__name__, err))
    found = sorted(n for n in dir(module) if callable(getattr(module, n, None)) and not n.startswith("_"))
    listing = ", ".join(found) or "none"
    style = control["style"]
    if control["export"]:
        fn = getattr(module, control["export"], None)
        if not callable(fn):
            fail("unknown_handler", 'the handler names function "%s", but %s has no such function (found: %s)' % (control["export"], os.path.basename(entry), listing))
        if style == "auto":
            style = "plain" if control["export"] in ("main", "lambda_") else "lambda"
        return fn, style
    for name, default_style in CANDIDATES:
        if style not in ("auto", default_style):
            continue
        fn = getattr(module, name, None)
        if callable(fn):
            return fn, default_style
    fail("unknown_handler", "%s defines no handler: define handler(event, context) or main(input, environment) (found: %s)" % (os.path.basename(entry), listing))


def make_event(method, target, headers, body, invocation_id):
    """An API Gateway HTTP API v2.0 event, with v1's httpMethod and path."""
    url = urlsplit(target)
    joined = {}
    for name, value in headers.items():
        name = name.lower()
        joined[name] = joined[name] + "," + value if name in joined else value
    cookies = joined.pop("cookie", None)
    query = {}
    for key, value in parse_qsl(url.query, keep_blank_values=True):
        query[key] = query[key] + "," + value if key in query else value
    now = time.time()
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": url.path or "/",
        "rawQueryString": url.query,
        "headers": joined,
        "requestContext": {
            "accountId": "kumo",
            "apiId": "kumo",
            "domainName": joined.get("host", "localhost"),
            "http": {"method": method, "path": url.path or "/", "protocol": "HTTP/1.1", "sourceIp": "", "userAgent": joined.get("user-agent", "")},
            "requestId": invocation_id,
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
        "httpMethod": method,
        "path": url.path or "/",
    }
    if cookies:
        event["cookies"] = [c.strip() for c in cookies.split(";") if c.strip()]
    if query:
        event["queryStringParameters"] = query
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
    return event


def encode_value(value):
    """(body, content type) of a returned value: str is text, bytes are bytes, the rest JSON."""
    if value is None:
        return b"", None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value), "application/octet-stream"
    if isinstance(value, str):
        return value.encode("utf-8"), text_type(value)
    return json.dumps(value, default=str).encode("utf-8"), "application/json; charset=utf-8"


def text_type(text):
    try:
        json.loads(text)
        return "application/json; charset=utf-8"
    except ValueError:
        return "text/plain; charset=utf-8"


def lambda_result(result):
    """Maps an AWS-style result to (status, headers, body)."""
    if not (isinstance(result, dict) and "statusCode" in result):
        body, ctype = encode_value(result)
        return 200, ({"content-type": ctype} if ctype else {}), body
    status = int(result["statusCode"])
    headers = {str(k).lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    body = result.get("body")
    if body is None or body == "":
        return status, headers, b""
    if isinstance(body, str):
        data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
        headers.setdefault("content-type", "application/octet-stream" if result.get("isBase64Encoded") else text_type(body))
        return status, headers, data
    data, ctype = encode_value(body)
    if ctype:
        headers.setdefault("content-type", ctype)
    return status, headers, data


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kumo-python"
    sys_version = ""

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except ConnectionError:
            self.close_connection = True

    def _serve(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        invocation_id = self.headers.get("x-kumo-invocation-id") or str(uuid.uuid4())
        try:
            deadline = float(self.headers.get("x-kumo-deadline") or 0)
        except ValueError:
            deadline = 0
        if deadline <= 0:
            deadline = time.time() * 1000 + CONTROL_STATE["timeout_ms"]
        current.id = invocation_id
        self.server.track(1)
        try:
            status, headers, data = self.server.invoke(self, body, invocation_id, deadline)
        except BaseException:  # noqa: BLE001 - the function's failure is a 500, never a crash
            sys.stderr.write("handler error in invocation %s:\n%s" % (invocation_id, traceback.format_exc()))
            message = "the function threw an error (invocation %s); see kumo logs %s" % (invocation_id, CONTROL_STATE["name"])
            status, headers = 500, {"content-type": "application/json; charset=utf-8"}
            data = json.dumps({"error": {"code": "handler_error", "message": message}}).encode()
        finally:
            current.id = None
        try:
            self._respond(status, headers, data)
        finally:
            self.server.track(-1)

    def _respond(self, status, headers, data):
        self.send_response(status)
        for name, value in headers.items():
            if name not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("content-length", str(len(data)))
        if self.server.closing:
            self.send_header("connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve


class UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, path, fn, style, control):
        self.fn = fn
        self.style = style
        self.control = control
        self.closing = False
        self.inflight = 0
        self.idle = threading.Condition()
        super().__init__(path, Handler)

    def track(self, delta):
        with self.idle:
            self.inflight += delta
            if self.inflight == 0:
                self.idle.notify_all()

    def drain(self, seconds):
        """Waits (bounded) for the requests in flight to be answered."""
        with self.idle:
            self.idle.wait_for(lambda: self.inflight == 0, timeout=seconds)

    def invoke(self, request, body, invocation_id, deadline):
        if self.style == "plain":
            return self.invoke_plain(request, body, invocation_id)
        if request.headers.get("x-kumo-lambda-invoke") == "1":
            return self.invoke_direct(body, invocation_id, deadline)
        event = make_event(request.command, request.path, request.headers, body, invocation_id)
        return lambda_result(self.fn(event, Context(invocation_id, deadline, self.control)))

    def invoke_direct(self, body, invocation_id, deadline):
        """The Lambda API's Invoke: the body is the event, the result goes back as JSON; an error is Lambda's payload under 200."""
        headers = {"content-type": "application/json"}
        try:
            text = body.decode("utf-8")
            event = json.loads(text) if text.strip() else {}
            data = json.dumps(self.fn(event, Context(invocation_id, deadline, self.control))).encode()
        except Exception as err:  # noqa: BLE001 - the handler's error is the answer, as on AWS
            stack = traceback.format_exc()
            sys.stderr.write("[ERROR] %s: %s\n%s" % (type(err).__name__, err, stack))
            headers["x-kumo-function-error"] = "Unhandled"
            data = json.dumps({
                "errorMessage": str(err),
                "errorType": type(err).__name__,
                "requestId": invocation_id,
                "stackTrace": traceback.format_tb(err.__traceback__),
            }).encode()
        return 200, headers, data

    def invoke_plain(self, request, body, invocation_id):
        url = urlsplit(request.path)
        environment = Environment(self.control["vars"])
        environment.update(
            method=request.command,
            path=url.path or "/",
            query=dict(parse_qsl(url.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in request.headers.items()},
            invocation_id=invocation_id,
            invocationId=invocation_id,
            body=body,
            # As ShortedFaaS defines it: 200, or 202 when the run was queued (async or cron).
            code=202 if request.headers.get("x-kumo-trigger", "http") not in ("", "http") else 200,
        )
        result = self.fn(body.decode("utf-8", errors="replace"), environment)
        code = environment.get("code")
        if not isinstance(code, int) or code < 100 or code > 599:
            raise ValueError("environment.code must be an HTTP status between 100 and 599 (got %r)" % (code,))
        data, ctype = encode_value(result)
        return code, ({"content-type": ctype} if ctype else {}), data


CONTROL_STATE = {}


def main():
    await_assignment()
    control = take_control()
    CONTROL_STATE.update(control)
    sys.stdout = TaggedStream(sys.stdout)
    sys.stderr = TaggedStream(sys.stderr)
    fn, style = load(control)
    try:
        os.unlink(control["socket"])
    except FileNotFoundError:
        pass
    server = UnixHTTPServer(control["socket"], fn, style, control)

    def stop(_signum, _frame):
        server.closing = True
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    report({"type": "ready"})
    server.serve_forever(poll_interval=0.5)
    server.drain(control["timeout_ms"] / 1000)
    server.server_close()
    sys.stdout.flush()
    sys.stderr.flush()


if __name__ == "__main__":
    main()
