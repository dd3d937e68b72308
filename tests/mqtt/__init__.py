"""Tests of live publishing: publisher, outbox, Home Assistant, monitor, dashboard."""
