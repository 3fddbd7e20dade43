"""The kernel: what every layer may build on.

Errors with their exit codes, the injected clock, the channel and OS account in force, the
aggregate base, named rules and the small ports lower modules are handed. It imports nothing of
the processor's own outside itself.
"""
