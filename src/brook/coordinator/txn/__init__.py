"""The transaction coordinator: transactional ids, their producer ids and epochs, and the state of each
transaction (Kafka's TransactionState machine), persisted in __transaction_state."""
