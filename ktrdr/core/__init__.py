"""The vocabulary every plane shares: settings, errors, names, enums, wire messages, logging.

Imports only the core dependencies (pydantic, structlog, uvicorn for serving); every other
package of ktrdr may import it, and it imports none of them.
"""
