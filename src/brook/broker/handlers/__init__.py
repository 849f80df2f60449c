"""One module per Kafka API: decode -> call the domain -> build the response (for whichever version).

Every module has `handle(broker: Broker, ctx: RequestContext, request: Request) -> object`: the request is kio's
dataclass of whichever version the client sent (one class per version, so it is typed `Any`), the result a kio
response, response bytes, None (no response) or an awaitable of one of those. A module may also have
`handle_frame(broker, connection, frame, decode)`, tried first on the undecoded frame: it returns what the
dispatcher returns (bytes, None, an awaitable, CLOSE), or UNHANDLED to leave the frame to kio and `handle`."""

from typing import Any

Request = Any
UNHANDLED = object()  # what a handler's handle_frame returns for a frame it leaves to kio and handle
