"""Sans-IO protocol layer: framing, headers, version dispatch and record-batch views. Messages come from kio."""
