"""Coordinators: the classic group protocol (and, later, transactions), persisted in internal topics."""
