"""WhatsApp send failures: failed sends and why, quiet hours and throttle, a dry send,
the incident summary."""
