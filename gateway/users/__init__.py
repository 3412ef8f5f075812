"""User accounts: the admin creates, disables, re-roles them and resets their passwords."""
