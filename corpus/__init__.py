"""The bottom of the flow: the guidance corpus (its manifest and sync), and what every layer shares:
the records that cross modules, the text rules, and the settings tree. Imports nothing above it."""
