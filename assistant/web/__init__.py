"""The web face: the Gradio chat, the presenter view and the HTTP API, over the assistant. Nothing in the core imports it."""
