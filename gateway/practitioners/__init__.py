"""The registry of practitioners: who orders and performs the services and drugs a BHYT claim lists."""
