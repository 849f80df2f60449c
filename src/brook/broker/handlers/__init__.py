"""One module per Kafka API: decode -> call the domain -> build the response (for whichever version)."""
