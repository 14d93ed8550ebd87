"""The Telegram shell: turns updates into flow events and carries out the intents."""
