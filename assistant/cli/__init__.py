"""The command line: parses flags, calls the library, prints what it returns. Nothing imports it but the entry point."""
