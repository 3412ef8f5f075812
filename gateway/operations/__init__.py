"""Operations: what admin must look at across the services (outbox messages rejected for good or stuck)."""
