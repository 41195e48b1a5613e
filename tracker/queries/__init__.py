"""The read side: who may read what, and what the API and the UI list, as pure functions of
the read models and the caller (``caller.Caller``). Routes, UI views, metrics and the change
feed ask these; commands (``tracker.commands``) decide writes."""
