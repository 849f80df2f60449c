"""The asyncio edge: listeners, connections, dispatch, delayed operations."""
