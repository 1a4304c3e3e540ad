"""Typed, validated extraction with LLMs over OpenAI-compatible chat completions."""
