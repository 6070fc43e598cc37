"""Every quiz item type, one module each; importing this package registers them all in `items.REGISTRY`."""

# Module imports only (no names), so the import cycle with app.content.items is safe in either order.
from app.content.item_types import matching, multiple_response, ordering, scenario  # noqa: F401
