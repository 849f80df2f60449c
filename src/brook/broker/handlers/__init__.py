"""One module per Kafka API: decode -> call the domain -> build the response (for whichever version).

Every module has `handle(broker: Broker, ctx: RequestContext, request: Request) -> object`: the request is kio's
dataclass of whichever version the client sent (one class per version, so it is typed `Any`), the result a kio
response, response bytes, None (no response) or an awaitable of one of those."""

from typing import Any

Request = Any
