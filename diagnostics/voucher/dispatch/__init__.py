"""Campaign dispatcher stalls: targets, the send queue, FAILED sends, the replay's audit trail."""
