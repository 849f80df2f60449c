"""RecordBatch v2 views: everything the broker needs is read from the 61-byte header."""
