"""Coordinators as synchronous state machines (groups, transactions) persisted in their internal topics; the
runtime reaches partitions only through the CoordinatorHost the broker passes in."""
