"""Pathways services: small async services over one NATS JetStream broker."""
