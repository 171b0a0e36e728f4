"""Logging without the proxy: the async log routes, traces (OTLP) and feedback."""
