"""The default templates and flows of a new WooCommerce tenant (issue §4), editable after.

Flow and template names are the relay's generic ones, so loading this document replaces the
generic defaults instead of adding a second "order accepted" next to them.
"""

from __future__ import annotations

from typing import Any

_TOTAL = "{% if order.total %} Сумма {{ order.total }} {{ order.currency }}.{% endif %}"
TEMPLATES = [
    ("order_processing", "transactional", "Заказ №{{ order.number }} принят." + _TOTAL),
    ("order_completed", "transactional", "Заказ №{{ order.number }} выполнен. Спасибо за покупку!"),
    ("order_on_hold", "transactional", "Заказ №{{ order.number }} ожидает оплаты." + _TOTAL),
    ("order_cancelled", "transactional", "Заказ №{{ order.number }} отменён."),
    ("order_refunded", "transactional", "По заказу №{{ order.number }} оформлен возврат."),
    (
        "cart_reminder",
        "marketing",
        "{{ customer.name or 'Здравствуйте' }}, вы оставили товары в корзине"
        "{% if cart.url %}: {{ cart.url }}{% else %}.{% endif %}",
    ),
]
STATUS_FLOWS = [
    ("order-processing", "processing", "order_processing"),
    ("order-completed", "completed", "order_completed"),
    ("order-on-hold", "on-hold", "order_on_hold"),
    ("order-cancelled", "cancelled", "order_cancelled"),
    ("order-refunded", "refunded", "order_refunded"),
]


def default_flows(cart_delay_minutes: int = 60) -> dict[str, Any]:
    """The `{"templates", "flows"}` document for `TenantDirectory.load_flows`.

    The cart reminder waits `cart_delay_minutes` after the plugin reports the cart abandoned
    and is cancelled by `cart.recovered` (the plugin) or `order.created` (the webhook), by cart
    id or by phone; it is marketing, so it needs the customer's consent.
    """
    if not isinstance(cart_delay_minutes, int) or not 0 <= cart_delay_minutes <= 7 * 24 * 60:
        raise ValueError(f"cart_delay_minutes must be 0..10080, got {cart_delay_minutes!r}")
    templates = [
        {"name": name, "category": category, "sms_text": text} for name, category, text in TEMPLATES
    ]
    flows: list[dict[str, Any]] = [
        {
            "name": name,
            "trigger": "order.status_changed",
            "conditions": {"order.status": status},
            "template": template,
            "category": "transactional",
        }
        for name, status, template in STATUS_FLOWS
    ]
    flows.append(
        {
            "name": "cart-abandoned",
            "trigger": "cart.abandoned",
            "template": "cart_reminder",
            "category": "marketing",
            "delay_seconds": cart_delay_minutes * 60,
            "cancel_on": ["cart.recovered", "order.created"],
            "cancel_key": "cart.id",
        }
    )
    return {"templates": templates, "flows": flows}
