"""The flows an incoming WhatsApp message starts: support, order status, leads, reservations, feedback,
sign-ups. Each takes an Engine and runs its nodes in order; what they write is in texts.py."""

from __future__ import annotations

import datetime as dt
import json
import random

from .contacts import CAFES, MANAGER, first_name, order_number
from .engine import Engine
from .failures import TEMPLATE
from .texts import (
    ASK_ORDER,
    BREW_GUIDE,
    CART_ITEMS,
    CATALOG,
    CLASSIFY_SYSTEM,
    ETA,
    EXTRACT_SYSTEM,
    FEEDBACK_MESSAGES,
    FEEDBACK_THANKS,
    HANDOFF,
    HUMAN_INTENTS,
    LEAD_MESSAGES,
    LEAD_REPLIES,
    LEAD_SYSTEM,
    ORDER_STATUS,
    ORDER_UPDATE,
    PRODUCT_TIPS,
    RESERVATION_DAYS,
    RESERVATION_MESSAGES,
    RESERVATION_REPLIES,
    RESERVATION_SYSTEM,
    SENTIMENT_SYSTEM,
    SIGNATURE,
    SUPPORT_INTENT_WEIGHTS,
    SUPPORT_INTENTS,
    SUPPORT_MESSAGES,
    SUPPORT_REPLIES,
    SUPPORT_SYSTEM,
    VAGUE_ORDER_MESSAGES,
    WELCOME,
    WELCOME_MESSAGES,
)


def support_prompt(e: Engine, text: str, intent: str, order: str, tracking: str) -> str:
    """The user prompt the support node builds: profile, order data, the conversation, the message."""
    rng, c = e.rng, e.customer
    orders = rng.randint(1, 14)
    profile = (f"Customer: {c['name'] or 'unknown'} ({c['phone']}), language: {c['language']}, "
               f"tags: {', '.join(c['tags']) or 'none'}, orders: {orders}, lifetime value: €{orders * 23.4:.2f}")
    data = "Order data: none (not about an order)"
    if intent in ("order_status", "return_request"):
        item = rng.choice(CART_ITEMS)
        data = (f"Order data (Shopify): {{\"name\": \"{order}\", \"created_at\": \"{shipped_on(e, 4)}\", "
                f"\"financial_status\": \"paid\", \"fulfillment_status\": \"fulfilled\", \"line_items\": "
                f"[{{\"title\": \"{item}\", \"quantity\": {rng.randint(1, 3)}}}], \"shipping_address\": "
                f"{{\"country_code\": \"{c['phone'][1:3]}\"}}, \"tracking\": {{\"company\": \"DHL\", "
                f"\"number\": \"{tracking}\", \"last_event\": \"arrived at delivery depot\"}}}}")
    turns = rng.choice(((), ("customer: hello?",), ("assistant: Hi! How can I help you today? ☕",
                                                    "customer: I have a question")))
    conversation = "\n".join(turns) or "(new conversation)"
    return (f"{profile}\nDetected intent: {intent}\n{data}\n\nConversation so far:\n{conversation}\n\n"
            f"New message:\n{text}\n\nWrite the reply.")


def support_message(rng: random.Random, lang: str, intent: str, order: str) -> str:
    return rng.choice(SUPPORT_MESSAGES[lang][intent]).format(order=order)


def shipped_on(e: Engine, days_ago: int) -> str:
    return (e.clock.now() - dt.timedelta(days=days_ago)).strftime("%d.%m.")


def tracking_number(rng: random.Random) -> str:
    return "00340434" + str(rng.randrange(10**12)).zfill(12)


def support_auto_reply(e: Engine) -> None:
    rng, c = e.rng, e.customer
    lang, first = c["language"], first_name(c)
    intent = rng.choices(SUPPORT_INTENTS, weights=SUPPORT_INTENT_WEIGHTS)[0]
    order = order_number(rng)
    text = support_message(rng, lang, intent, order)
    e.receive(text)
    verdict = {"intent": intent, "language": lang, "confidence": round(rng.uniform(0.71, 0.99), 2)}
    e.ai("Classify Intent", "gpt-4o-mini", CLASSIFY_SYSTEM, text, json.dumps(verdict), output=verdict,
         input={"model": "gpt-4o-mini", "temperature": 0, "response_format": "json_object"})
    needs_human = intent in HUMAN_INTENTS
    e.condition("Needs Human?", "{{intent}} in ['complaint', 'human_agent']", intent, needs_human)
    if needs_human:
        e.send(MANAGER, f"🔔 {c['name']} ({c['phone']}) needs a human ({intent}): \"{text}\"",
               name="Notify Support Team")
        e.skip("AI Response", "ai_response")
        e.send(c, HANDOFF[lang].format(first=first))
        return
    e.skip("Notify Support Team", "send_message")
    # an A/B test sends a tenth of the conversations to the bigger model
    model = "gpt-4o" if rng.random() < 0.1 else "gpt-4o-mini"
    tracking = tracking_number(rng)
    user = support_prompt(e, text, intent, order, tracking)
    reply = SUPPORT_REPLIES[lang][intent].format(
        first=first, order=order, shipped=shipped_on(e, 3), tracking=tracking,
        eta=rng.choice(ETA[lang]), product=rng.choice(PRODUCT_TIPS[lang]))
    if intent == "product_question" and rng.random() < 0.15:
        reply += BREW_GUIDE
    reply = e.ai("AI Response", model, SUPPORT_SYSTEM, user, reply + SIGNATURE,
                 input={"model": model, "temperature": 0.4, "message": text, "intent": intent})
    e.send(c, reply)


def order_status_lookup(e: Engine) -> None:
    rng, c = e.rng, e.customer
    lang, first = c["language"], first_name(c)
    order = order_number(rng)
    has_number = rng.random() < 0.8
    text = support_message(rng, lang, "order_status", order) if has_number else VAGUE_ORDER_MESSAGES[lang]
    e.receive(text)
    extracted = {"order_number": order if has_number else None}
    e.ai("Extract Order Number", "gpt-4o-mini", EXTRACT_SYSTEM, text, json.dumps(extracted), output=extracted,
         input={"model": "gpt-4o-mini", "temperature": 0, "response_format": "json_object"})
    if not e.condition("Order Number Found?", "{{order_number}} is not empty", extracted["order_number"],
                       has_number):
        e.skip("Get Order", "http_request")
        e.send(c, ASK_ORDER[lang].format(first=first))
        return
    # a misconfigured run sends the tracking template for an order that has not shipped yet
    misconfigured = e.take_fault(TEMPLATE)
    fulfilled = not misconfigured and rng.random() < 0.75
    tracking = tracking_number(rng) if fulfilled else None
    url = f"https://verde-coffee.myshopify.com/admin/api/2024-10/orders.json?name=%23{order[1:]}&status=any"
    found = e.http("Get Order", "GET", url, low=0.15, high=1.2, response={"orders": [{
        "name": order, "financial_status": "paid", "fulfillment_status": "fulfilled" if fulfilled else None,
        "tracking_company": "DHL" if fulfilled else None, "tracking_number": tracking,
        "line_items": [{"title": "Casa Blend 250 g", "quantity": rng.randint(1, 3), "price": "11.90"}]}]})
    status = ORDER_STATUS[lang][0 if fulfilled else 1]
    variables = {"first_name": first, "order_number": found["orders"][0]["name"], "status": status,
                 "tracking_url": f"https://verdecoffee.com/track/{tracking}" if tracking else None}
    required = ("first_name", "order_number", "tracking_url") if misconfigured else ("first_name",)
    if not fulfilled and not misconfigured:
        variables["tracking_url"] = "https://verdecoffee.com/account/orders"
    e.send(c, ORDER_UPDATE[lang], template="order_update", variables=variables, required=required,
           fallback={"first_name": "there"})


def lead_qualification(e: Engine) -> None:
    rng, c = e.rng, e.customer
    lang, first = c["language"], first_name(c)
    kg = rng.choice((4, 8, 12, 15, 20, 25, 40))
    text = rng.choice(LEAD_MESSAGES[lang]).format(kg=kg)
    e.receive(text)
    score = min(98, max(12, round(kg * 3.2 + rng.uniform(-10, 20))))
    segment = rng.choice(("cafe", "restaurant", "office"))
    verdict = {"score": score, "segment": segment, "city": rng.choice(("Leeds", "Leipzig", "Valencia", "Campinas")),
               "volume_kg_week": kg, "summary": f"{segment.title()} asking for about {kg} kg/week of espresso "
               f"beans; wants wholesale pricing and samples."}
    e.ai("Qualify Lead", "claude-sonnet-4", LEAD_SYSTEM, f"From: {c['name']} ({c['phone']})\n\n{text}",
         json.dumps(verdict, ensure_ascii=False), output=verdict,
         input={"model": "claude-sonnet-4", "temperature": 0, "max_tokens": 400})
    hot = e.condition("Hot Lead?", "{{score}} >= 70", score, score >= 70)
    if hot:
        e.http("Create CRM Deal", "POST", "https://api.hubapi.com/crm/v3/objects/deals", low=0.3, high=1.8,
               body={"properties": {"dealname": f"Wholesale – {c['name']}", "pipeline": "wholesale",
                                    "dealstage": "qualifiedtobuy", "amount": str(kg * 52 * 18)}},
               response={"id": str(rng.randrange(10**10, 10**11)), "createdAt": e.clock.now().isoformat()},
               status=201)
    else:
        e.skip("Create CRM Deal", "http_request")
    e.send(c, LEAD_REPLIES[lang][0 if hot else 1].format(first=first, kg=kg))


def cafe_table_reservations(e: Engine) -> None:
    rng, c = e.rng, e.customer
    lang, first = c["language"], first_name(c)
    n, day_index = rng.randint(2, 8), rng.randrange(3)
    day = RESERVATION_DAYS[lang][day_index]
    time = rng.choice(("09:30", "10:00", "11:30", "13:00", "15:30", "17:00"))
    text = RESERVATION_MESSAGES[lang].format(n=n, day=day, time=time)
    e.receive(text)
    date = (e.clock.now() + dt.timedelta(days=(0, 1, 3)[day_index])).date().isoformat()
    request = {"party_size": n, "date": date, "time": time, "cafe": CAFES[lang]}
    e.ai("Parse Reservation", "claude-3-5-haiku", RESERVATION_SYSTEM.format(today=e.clock.now().date()), text,
         json.dumps(request, ensure_ascii=False), output=request,
         input={"model": "claude-3-5-haiku", "temperature": 0, "max_tokens": 200})
    available = rng.random() < 0.7
    slots = [time] if available else ["12:30", "16:00"]
    e.http("Check Availability", "GET", f"https://booking.verdecoffee.com/api/v1/availability?cafe="
           f"{CAFES[lang].lower()}&date={date}&party={n}", low=0.1, high=0.9,
           response={"available": available, "free_slots": slots})
    ref = f"R-{rng.randint(10000, 99999)}"
    if e.condition("Table Available?", "{{available}} == true", available, available):
        e.http("Book Table", "POST", "https://booking.verdecoffee.com/api/v1/reservations", low=0.2, high=1.1,
               body={**request, "name": c["name"], "phone": c["phone"]},
               response={"reservation_id": ref, "status": "confirmed"}, status=201)
    else:
        e.skip("Book Table", "http_request")
    reply = RESERVATION_REPLIES[lang][0 if available else 1]
    e.send(c, reply.format(first=first, n=n, day=day, time=time, cafe=CAFES[lang], ref=ref,
                           alt1=slots[0], alt2=slots[-1]))


def feedback_sentiment(e: Engine) -> None:
    rng, c = e.rng, e.customer
    lang = c["language"]
    text, sentiment = rng.choice(FEEDBACK_MESSAGES[lang])
    e.receive(text)
    score = {"positive": 0.8, "neutral": 0.1, "negative": -0.7}[sentiment] + round(rng.uniform(-0.15, 0.15), 2)
    analysis = {"sentiment": sentiment, "score": round(score, 2),
                "topics": rng.sample(["service", "coffee", "wait time", "food", "atmosphere"], 2)}
    e.ai("Analyze Sentiment", "gpt-4o-mini", SENTIMENT_SYSTEM, text, json.dumps(analysis), output=analysis)
    if e.condition("Negative?", "{{sentiment}} == 'negative'", sentiment, sentiment == "negative"):
        e.send(MANAGER, f"⚠️ Negative feedback from {c['name']} ({c['phone']}): \"{text}\"", name="Alert Manager")
    else:
        e.skip("Alert Manager", "send_message")
    e.http("Log Feedback", "POST", "https://sheets.googleapis.com/v4/spreadsheets/1qVfX0cFeedback2025/values/"
           "Feedback!A:E:append?valueInputOption=USER_ENTERED", low=0.2, high=1.4,
           body={"values": [[e.clock.now().isoformat(), c["phone"], text, sentiment, analysis["score"]]]},
           response={"updates": {"updatedRange": "Feedback!A1:E1", "updatedRows": 1}})
    e.send(c, FEEDBACK_THANKS[lang].format(first=first_name(c)))


def welcome_new_subscriber(e: Engine) -> None:
    rng, c = e.rng, e.customer
    lang = c["language"]
    e.receive(rng.choice(WELCOME_MESSAGES[lang]))
    profile = dict(c, name=c["name"] if rng.random() > 0.1 else "")  # WhatsApp profiles without a name
    e.set_variables("Save Contact", {"contact": {**profile, "tags": ["newsletter"],
                                                 "opted_in_at": e.clock.now().isoformat()}},
                    input={"phone": c["phone"], "profile_name": profile["name"]})
    e.send(profile, WELCOME[lang], template="welcome_subscriber", variables={"first_name": first_name(profile)},
           required=("first_name",), fallback={"first_name": "friend"}, name="Send Welcome")
    e.delay("Wait 20 s", 20.0)
    e.send(c, CATALOG[lang], name="Send Catalog")
