"""What customers write, and what the tenant answers, per language: the messages, templates, AI prompts
and product data the flows use, grouped by flow. They are data, kept apart so a flow (flows_incoming.py,
flows_scheduled.py) reads as its nodes."""

from __future__ import annotations

# The AI models the flows call.
MODELS = ("gpt-4o-mini", "gpt-4o", "claude-3-5-haiku", "claude-sonnet-4")

# Support Auto-Reply
SUPPORT_INTENTS = ("order_status", "return_request", "product_question", "opening_hours", "complaint", "human_agent")
SUPPORT_INTENT_WEIGHTS = (34, 10, 24, 12, 12, 8)
HUMAN_INTENTS = ("complaint", "human_agent")

SUPPORT_MESSAGES = {
    "en": {
        "order_status": ("Hi, where is my order {order}? It's been 5 days already",
                         "hey any update on {order}?? tracking hasn't moved since monday",
                         "Hello! I ordered the Ethiopia Yirgacheffe last week (order {order}), when will it arrive?"),
        "return_request": ("The V60 dripper arrived cracked :( can I get a replacement? Order {order}",
                           "I got the wrong grinder burrs in order {order}, how do I return them?"),
        "product_question": ("Is the Colombia Huila good for espresso or more for filter?",
                             "Do you sell decaf beans? My wife can't have caffeine after 4pm",
                             "What grind size should I use for a French press with the Casa Blend?"),
        "opening_hours": ("What time does the Kreuzberg café open on Sunday?", "Are you open on bank holidays?"),
        "complaint": ("Second time my subscription box arrived late. Not happy at all.",
                      "The beans from order {order} taste stale, roast date was 2 months ago!!"),
        "human_agent": ("Can I talk to a real person please", "I need to speak to someone about our wholesale invoice"),
    },
    "pt": {
        "order_status": ("Oi, cadê meu pedido {order}? Já faz uma semana",
                         "Boa tarde! Meu pedido {order} ainda não chegou, podem verificar?"),
        "return_request": ("Recebi o moedor com defeito (pedido {order}), como faço a troca?",),
        "product_question": ("Vocês têm café descafeinado?", "Qual café vocês recomendam para coado?"),
        "opening_hours": ("Que horas a cafeteria de Pinheiros abre no sábado?",),
        "complaint": ("O café do pedido {order} chegou com a embalagem rasgada, muito decepcionado",),
        "human_agent": ("Quero falar com um atendente, por favor",),
    },
    "es": {
        "order_status": ("Hola, ¿dónde está mi pedido {order}?",
                         "Buenas, mi pedido {order} sigue sin llegar, ¿me ayudan?"),
        "return_request": ("Me llegó la prensa francesa rota (pedido {order}), ¿cómo la devuelvo?",),
        "product_question": ("¿Qué café me recomiendan para moka italiana?", "¿Tienen suscripción mensual?"),
        "opening_hours": ("¿A qué hora abre la cafetería de Malasaña los domingos?",),
        "complaint": ("Pedí molido para espresso y me llegó en grano entero. Qué mal.",),
        "human_agent": ("¿Puedo hablar con una persona?",),
    },
    "de": {
        "order_status": ("Hallo, wo bleibt meine Bestellung {order}?",
                         "Guten Tag, Bestellung {order} ist laut DHL seit Tagen im Verteilzentrum. Können Sie "
                         "nachfragen?"),
        "return_request": ("Die Mühle aus Bestellung {order} macht komische Geräusche, kann ich sie zurückschicken?",),
        "product_question": ("Welche Bohnen empfehlen Sie für Siebträger?",
                             "Gibt es den Casa Blend auch in 1 kg?"),
        "opening_hours": ("Hat das Café in Kreuzberg am Feiertag geöffnet?",),
        "complaint": ("Schon wieder kam das Abo zu spät. Sehr ärgerlich.",),
        "human_agent": ("Ich möchte bitte mit einem Mitarbeiter sprechen",),
    },
}

SIGNATURE = "\n— Lina, Verde Coffee"
SUPPORT_REPLIES = {
    "en": {
        "order_status": "Hi {first}! Your order {order} left our roastery on {shipped} and is with DHL now "
                        "(tracking {tracking}). The latest scan says it is at the local depot, so it should "
                        "arrive {eta}. You can follow it here: https://www.dhl.de/en/track?id={tracking} ☕",
        "return_request": "I'm sorry about that, {first}! Equipment can be returned within 30 days and for damaged "
                          "items we cover the shipping. I've emailed you a prepaid return label for order {order}; "
                          "once the parcel is scanned we send a replacement or a refund within 3 business days, "
                          "your choice.",
        "product_question": "Good question, {first}! {product} If you tell me your brewer (espresso machine, V60, "
                            "French press or moka pot) I can suggest the right grind size too.",
        "opening_hours": "Hi {first}! Our cafés are open Mon–Fri 7:30–19:00 and Sat–Sun 9:00–18:00. On public "
                         "holidays we're closed, but the online shop ships as usual. See you soon! ☕",
    },
    "pt": {
        "order_status": "Oi {first}! Seu pedido {order} saiu da torrefação em {shipped} e está com os Correios "
                        "(rastreio {tracking}). Ele já está no centro de distribuição e deve chegar {eta}. "
                        "Acompanhe aqui: https://rastreamento.correios.com.br/?objeto={tracking} ☕",
        "return_request": "Poxa, {first}, sinto muito! Equipamentos podem ser trocados em até 30 dias e o frete "
                          "é por nossa conta. Enviei por e-mail a etiqueta de devolução do pedido {order}; assim "
                          "que for postado, mandamos um novo ou devolvemos o valor em até 3 dias úteis.",
        "product_question": "Ótima pergunta, {first}! {product} Me conta qual método você usa (espresso, V60, "
                            "prensa francesa ou moka) que eu indico a moagem ideal.",
        "opening_hours": "Oi {first}! A cafeteria de Pinheiros abre de seg a sex das 7:30 às 19:00 e sáb e dom "
                         "das 9:00 às 18:00. Nos feriados fechamos, mas a loja online continua enviando. ☕",
    },
    "es": {
        "order_status": "¡Hola {first}! Tu pedido {order} salió del tostadero el {shipped} y ya está con Correos "
                        "Express (seguimiento {tracking}). Está en la delegación local, así que debería llegar "
                        "{eta}. Puedes seguirlo aquí: https://s.correosexpress.com/{tracking} ☕",
        "return_request": "¡Lo siento mucho, {first}! Los accesorios se pueden devolver en 30 días y si llegan "
                          "dañados pagamos nosotros el envío. Te he mandado por email la etiqueta de devolución del "
                          "pedido {order}; en cuanto la escaneen, te enviamos otro o te devolvemos el dinero.",
        "product_question": "¡Buena pregunta, {first}! {product} Si me dices con qué preparas el café (espresso, "
                            "V60, prensa francesa o moka) te recomiendo también la molienda.",
        "opening_hours": "¡Hola {first}! La cafetería de Malasaña abre de lunes a viernes de 7:30 a 19:00 y los "
                         "fines de semana de 9:00 a 18:00. Los festivos cerramos, pero la tienda online sigue "
                         "enviando. ☕",
    },
    "de": {
        "order_status": "Hallo {first}! Deine Bestellung {order} hat unsere Rösterei am {shipped} verlassen und ist "
                        "bei DHL (Sendungsnummer {tracking}). Laut letztem Scan liegt sie im Zustellzentrum und "
                        "kommt voraussichtlich {eta}. Verfolgen: https://www.dhl.de/de/privatkunden.html?"
                        "piececode={tracking} ☕",
        "return_request": "Das tut mir leid, {first}! Zubehör kannst du innerhalb von 30 Tagen zurückschicken, bei "
                          "Schäden übernehmen wir den Versand. Das Retourenlabel für Bestellung {order} ist in deinem "
                          "Postfach; sobald das Paket gescannt ist, schicken wir Ersatz oder erstatten den Betrag.",
        "product_question": "Gute Frage, {first}! {product} Wenn du mir sagst, womit du brühst (Siebträger, V60, "
                            "French Press oder Mokkakanne), empfehle ich dir auch den passenden Mahlgrad.",
        "opening_hours": "Hallo {first}! Unser Café in Kreuzberg hat Mo–Fr 7:30–19:00 und Sa–So 9:00–18:00 "
                         "geöffnet. An Feiertagen ist geschlossen, der Onlineshop versendet wie gewohnt. ☕",
    },
}
PRODUCT_TIPS = {
    "en": ("For espresso I'd pick our Brasil Cerrado (chocolate, hazelnut) or the Casa Blend, both medium-dark, "
           "250 g for €11.90.", "For filter our Ethiopia Yirgacheffe is lovely: jasmine, lemon and peach, light "
           "roast, 250 g for €14.50.", "Yes! Our Swiss Water decaf from Colombia tastes of caramel and red apple, "
           "250 g for €12.50."),
    "pt": ("Para espresso recomendo o Brasil Cerrado (chocolate e avelã) ou o Casa Blend, torra média-escura, "
           "250 g por R$ 59,90.", "Para coado o Etiópia Yirgacheffe é incrível: jasmim, limão e pêssego, 250 g "
           "por R$ 74,90.", "Temos sim! O descafeinado Swiss Water da Colômbia tem notas de caramelo, 250 g por "
           "R$ 62,90."),
    "es": ("Para moka o espresso te recomiendo el Brasil Cerrado (chocolate, avellana) o el Casa Blend, 250 g "
           "por 11,90 €.", "Para filtro el Etiopía Yirgacheffe es precioso: jazmín, limón y melocotón, 250 g "
           "por 14,50 €.", "¡Sí! Tenemos suscripción mensual desde 24 €: eliges tostado y molienda y lo "
           "enviamos el primer lunes de cada mes."),
    "de": ("Für Siebträger empfehle ich den Brasil Cerrado (Schokolade, Haselnuss) oder den Casa Blend, "
           "250 g für 11,90 €.", "Den Casa Blend gibt es auch als 1-kg-Beutel für 39,90 €, ideal für Büro "
           "und Vieltrinker.", "Für Filter ist der Äthiopien Yirgacheffe toll: Jasmin, Zitrone, Pfirsich, "
           "250 g für 14,50 €."),
}
# A long brewing guide some replies append: those exceed MAX_REPLY_CHARS and get truncated.
BREW_GUIDE = ("\n\nQuick brewing guide: espresso 18 g in, 36 g out in 27–30 s at 93 °C; V60 15 g to 250 g "
              "water at 94 °C, bloom 30 s with 40 g, total time 2:45–3:15; French press 30 g coarse to 500 g "
              "water, steep 4 min, break the crust, wait 5 more minutes and pour slowly; moka pot fill the "
              "basket without tamping, start with hot water and take it off the heat as soon as it gurgles. "
              "Store beans airtight, away from light, and grind just before brewing for the best cup. If "
              "your espresso runs too fast (under 22 s) grind finer; if it chokes or tastes bitter, grind "
              "coarser or lower the dose by half a gram. For filter, sour cups mean under-extraction (grind "
              "finer, hotter water), dry or bitter cups mean over-extraction (grind coarser).")
HANDOFF = {
    "en": "Thanks for your message, {first}. I've passed it to a teammate who will reply here within the next "
          "hour (Mon–Sat 8:00–20:00).",
    "pt": "Obrigada pela mensagem, {first}. Já passei para alguém da equipe, que responde por aqui em até uma "
          "hora (seg–sáb 8:00–20:00).",
    "es": "Gracias por tu mensaje, {first}. Se lo he pasado a un compañero que te responderá aquí en menos de "
          "una hora (lun–sáb 8:00–20:00).",
    "de": "Danke für deine Nachricht, {first}. Ich habe sie an eine Kollegin weitergegeben, die dir innerhalb "
          "einer Stunde hier antwortet (Mo–Sa 8:00–20:00).",
}
ETA = {"en": ("tomorrow", "on Thursday", "within 2 days"), "pt": ("amanhã", "na quinta-feira", "em até 2 dias"),
       "es": ("mañana", "el jueves", "en 2 días"), "de": ("morgen", "am Donnerstag", "in den nächsten 2 Tagen")}

SUPPORT_SYSTEM = (
    "You are Lina, the WhatsApp support assistant of Verde Coffee Roasters, a specialty coffee roaster with an "
    "online shop and three cafés (Berlin-Kreuzberg, São Paulo-Pinheiros, Madrid-Malasaña).\n"
    "Rules:\n"
    "- Answer in the customer's language, warm and concise (max. 600 characters, no headings).\n"
    "- Use only the order data provided; never invent tracking numbers, prices or delivery dates.\n"
    "- Shipping: Germany 1–2 business days (DHL), EU 3–5 days, Brazil 4–8 days (Correios). Free shipping "
    "over €35 / R$199.\n"
    "- Returns: unopened coffee within 14 days; equipment within 30 days, we email a prepaid label.\n"
    "- Café hours: Mon–Fri 7:30–19:00, Sat–Sun 9:00–18:00; closed on public holidays.\n"
    "- If the customer is angry, asks for a human or mentions an invoice, say a teammate will take over.\n"
    "Sign off with \"— Lina, Verde Coffee\"."
)
CLASSIFY_SYSTEM = (
    "Classify the customer's WhatsApp message for Verde Coffee Roasters into exactly one intent: order_status, "
    "return_request, product_question, opening_hours, complaint, human_agent. Detect the language (ISO 639-1). "
    "Respond with JSON only: {\"intent\": ..., \"language\": ..., \"confidence\": 0..1}."
)

# Order Status Lookup
ORDER_STATUS = {"en": ("on its way with DHL", "being packed at the roastery"),
                "pt": ("a caminho com os Correios", "sendo embalado na torrefação"),
                "es": ("en camino con Correos Express", "preparándose en el tostadero"),
                "de": ("mit DHL unterwegs", "wird gerade in der Rösterei gepackt")}
ORDER_UPDATE = {
    "en": "Hi {first_name}! Your order {order_number} is {status}. Track it here: {tracking_url}",
    "pt": "Oi {first_name}! Seu pedido {order_number} está {status}. Acompanhe aqui: {tracking_url}",
    "es": "¡Hola {first_name}! Tu pedido {order_number} está {status}. Síguelo aquí: {tracking_url}",
    "de": "Hallo {first_name}! Deine Bestellung {order_number} ist {status}. Sendungsverfolgung: {tracking_url}",
}
ASK_ORDER = {
    "en": "Happy to check, {first}! Could you send me your order number? It starts with #VC and is in your "
          "confirmation email.",
    "pt": "Claro, {first}! Pode me mandar o número do pedido? Ele começa com #VC e está no e-mail de confirmação.",
    "es": "¡Claro, {first}! ¿Me pasas el número de pedido? Empieza por #VC y está en el email de confirmación.",
    "de": "Gern, {first}! Schickst du mir die Bestellnummer? Sie beginnt mit #VC und steht in der "
          "Bestätigungsmail.",
}
VAGUE_ORDER_MESSAGES = {"en": "hi where is my package", "pt": "oi, meu pedido ainda não chegou",
                        "es": "hola, no me ha llegado el pedido", "de": "Hallo, mein Paket ist noch nicht da"}
EXTRACT_SYSTEM = ("Extract the Verde Coffee order number (format #VC-12345) from the customer's message. "
                  "Respond with JSON only: {\"order_number\": string|null}.")

# Lead Qualification
LEAD_MESSAGES = {
    "en": ("Hi, I run a small café in Leeds (2 locations) and we're looking for a new espresso roaster, about "
           "{kg} kg a week. Do you do wholesale?", "Hello, we're an office of 120 people in London, could you "
           "supply beans for our bean-to-cup machines? Roughly {kg} kg per week."),
    "de": ("Hallo, wir eröffnen im Mai ein Café in Leipzig und suchen eine Rösterei, ca. {kg} kg pro Woche. "
           "Bieten Sie Großhandel an?",),
    "es": ("Hola, tengo un restaurante en Valencia y buscamos café de especialidad, unos {kg} kg a la semana. "
           "¿Trabajáis con hostelería?",),
    "pt": ("Olá, tenho uma padaria em Campinas e quero servir café especial, uns {kg} kg por semana. Vocês "
           "vendem no atacado?",),
}
LEAD_SYSTEM = (
    "You qualify wholesale leads for Verde Coffee Roasters. Score 0-100 how likely the sender becomes a wholesale "
    "customer: cafés, restaurants and offices buying 10+ kg a week score high; private customers score low. "
    "Minimum order is 10 kg/month. Extract segment (cafe, restaurant, office, retail, private), city and "
    "estimated weekly volume in kg. Respond with JSON only: {\"score\": int, \"segment\": str, \"city\": str, "
    "\"volume_kg_week\": number, \"summary\": str}."
)
LEAD_REPLIES = {
    "en": ("Thanks {first}! That sounds like a great fit. Our wholesale lead Marta will call you within one "
           "business day with samples and pricing for ~{kg} kg a week.", "Thanks {first}! Here is our wholesale "
           "price list: https://verdecoffee.com/wholesale.pdf (minimum order 10 kg a month). Reply here with "
           "any questions."),
    "de": ("Danke {first}! Das passt sehr gut. Marta aus unserem Großhandelsteam ruft dich innerhalb eines "
           "Werktags an, mit Mustern und Preisen für ca. {kg} kg pro Woche.", "Danke {first}! Hier ist unsere "
           "Großhandelspreisliste: https://verdecoffee.com/wholesale.pdf (Mindestbestellung 10 kg im Monat)."),
    "es": ("¡Gracias {first}! Encaja muy bien. Marta, de nuestro equipo mayorista, te llamará en un día "
           "laborable con muestras y precios para unos {kg} kg a la semana.", "¡Gracias {first}! Aquí tienes "
           "nuestra tarifa mayorista: https://verdecoffee.com/wholesale.pdf (pedido mínimo 10 kg al mes)."),
    "pt": ("Obrigada, {first}! Tem tudo a ver com a gente. A Marta, do atacado, vai te ligar em até um dia útil "
           "com amostras e preços para uns {kg} kg por semana.", "Obrigada, {first}! Aqui está nossa tabela de "
           "atacado: https://verdecoffee.com/wholesale.pdf (pedido mínimo de 10 kg por mês)."),
}

# Café Table Reservations
RESERVATION_MESSAGES = {
    "en": "Hi! Can I book a table for {n} {day} at {time}?",
    "pt": "Oi! Queria reservar uma mesa para {n} pessoas {day} às {time}",
    "es": "Hola, ¿tenéis mesa para {n} {day} a las {time}?",
    "de": "Hallo, haben Sie {day} um {time} einen Tisch für {n} Personen frei?",
}
RESERVATION_DAYS = {"en": ("today", "tomorrow", "on Saturday"), "pt": ("hoje", "amanhã", "no sábado"),
                    "es": ("hoy", "mañana", "el sábado"), "de": ("heute", "morgen", "am Samstag")}
RESERVATION_REPLIES = {
    "en": ("Done, {first}! Your table for {n} {day} at {time} at our {cafe} café is booked (ref {ref}). "
           "See you soon ☕", "Sorry {first}, we're fully booked {day} at {time}. We still have {alt1} or {alt2}, "
           "shall I book one of those?"),
    "pt": ("Pronto, {first}! Sua mesa para {n} {day} às {time} na cafeteria de {cafe} está reservada "
           "(código {ref}). Até logo ☕", "Poxa, {first}, {day} às {time} estamos lotados. Temos {alt1} ou "
           "{alt2}, quer que eu reserve?"),
    "es": ("¡Listo, {first}! Tu mesa para {n} {day} a las {time} en la cafetería de {cafe} está reservada "
           "(ref. {ref}). ¡Hasta pronto! ☕", "Lo siento, {first}, {day} a las {time} estamos completos. Nos "
           "quedan {alt1} o {alt2}, ¿te reservo alguna?"),
    "de": ("Erledigt, {first}! Dein Tisch für {n} {day} um {time} in unserem Café in {cafe} ist reserviert "
           "(Nr. {ref}). Bis bald ☕", "Sorry {first}, {day} um {time} sind wir ausgebucht. Frei wären noch "
           "{alt1} oder {alt2}, soll ich einen davon buchen?"),
}
RESERVATION_SYSTEM = (
    "Extract a table reservation request for a Verde Coffee café from the message. Today is {today}. Resolve "
    "relative days to ISO dates, times to 24h HH:MM. Respond with JSON only: {{\"party_size\": int, \"date\": "
    "\"YYYY-MM-DD\", \"time\": \"HH:MM\", \"cafe\": \"Kreuzberg|Pinheiros|Malasaña\"}}."
)

# Feedback Sentiment Analysis
FEEDBACK_MESSAGES = {
    "en": (("5! the flat white was amazing and the staff super friendly", "positive"),
           ("2 - waited 20 minutes for a cappuccino and it was lukewarm", "negative"),
           ("4, great coffee but the wifi kept dropping", "neutral")),
    "pt": (("5! Melhor pão de queijo de Pinheiros, café perfeito", "positive"),
           ("1. O atendente foi grosso e o café veio errado", "negative")),
    "es": (("5, el cold brew está buenísimo", "positive"), ("2, muy lento el servicio el sábado", "negative")),
    "de": (("5 Sterne, bester Cortado in Kreuzberg!", "positive"),
           ("2 – Kuchen war alt und die Musik viel zu laut", "negative")),
}
FEEDBACK_THANKS = {"en": "Thank you, {first}! We read every message and pass it on to the team 💚",
                   "pt": "Obrigado, {first}! Lemos todas as mensagens e passamos para a equipe 💚",
                   "es": "¡Gracias, {first}! Leemos todos los mensajes y se los pasamos al equipo 💚",
                   "de": "Danke, {first}! Wir lesen jede Nachricht und geben sie ans Team weiter 💚"}
SENTIMENT_SYSTEM = ("Analyze the sentiment of café guest feedback. Respond with JSON only: {\"sentiment\": "
                    "\"positive|neutral|negative\", \"score\": -1..1, \"topics\": [string]}.")

# Welcome New Subscriber
WELCOME_MESSAGES = {"en": ("JOIN", "Hi, I'd like to get your offers"), "pt": ("Oi! Quero receber as ofertas",),
                    "es": ("Hola, quiero suscribirme", "ALTA"), "de": ("START", "Hallo, ich möchte den Newsletter")}
WELCOME = {
    "en": "Welcome to Verde Coffee, {first_name}! ☕ You'll get our roast drops and café offers here, at most "
          "twice a week. Reply STOP anytime to unsubscribe.",
    "pt": "Bem-vindo à Verde Coffee, {first_name}! ☕ Você vai receber nossos lançamentos e ofertas por aqui, no "
          "máximo duas vezes por semana. Responda SAIR para cancelar.",
    "es": "¡Bienvenido a Verde Coffee, {first_name}! ☕ Te enviaremos novedades y ofertas como mucho dos veces por "
          "semana. Responde BAJA cuando quieras.",
    "de": "Willkommen bei Verde Coffee, {first_name}! ☕ Du bekommst hier neue Röstungen und Café-Angebote, "
          "höchstens zweimal pro Woche. Antworte STOP zum Abmelden.",
}
CATALOG = {"en": "Here is our spring catalog 📖 https://verdecoffee.com/catalog-en.pdf — 10% off your first order "
                 "with WELCOME10.",
           "pt": "Aqui está nosso catálogo 📖 https://verdecoffee.com/catalogo-pt.pdf — 10% na primeira compra com "
                 "BEMVINDO10.",
           "es": "Aquí tienes nuestro catálogo 📖 https://verdecoffee.com/catalogo-es.pdf — 10% en tu primer pedido "
                 "con BIENVENIDA10.",
           "de": "Hier ist unser Frühjahrskatalog 📖 https://verdecoffee.com/katalog-de.pdf — 10 % auf die erste "
                 "Bestellung mit WILLKOMMEN10."}

# Appointment Reminders
WORKSHOPS = ("Latte Art Basics", "Home Espresso Masterclass", "Cupping Session", "Filter Brewing 101")
REMINDER = {
    "en": "Hi {first_name}, a reminder: {workshop} today at {time} at Verde Coffee {cafe}. Reply C to cancel.",
    "pt": "Oi {first_name}, lembrete: {workshop} hoje às {time} na Verde Coffee {cafe}. Responda C para cancelar.",
    "es": "Hola {first_name}, te recordamos: {workshop} hoy a las {time} en Verde Coffee {cafe}. Responde C para "
          "cancelar.",
    "de": "Hallo {first_name}, Erinnerung: {workshop} heute um {time} bei Verde Coffee {cafe}. Antworte C zum "
          "Absagen.",
}

# Abandoned Cart Follow-up (CART_ITEMS also fill the support prompt's order data)
CART_SYSTEM = (
    "You write short, friendly WhatsApp reminders for customers of Verde Coffee Roasters who left items in their "
    "cart. Write in the customer's language, max. 300 characters, one emoji at most, mention the items by name, "
    "include the cart link and the discount code exactly as given. No pressure tactics, no invented prices."
)
CART_REPLIES = {
    "en": "Hi {first}! You left {items} in your cart 🛒 Still thinking it over? It's saved here: {url} and with "
          "{code} you get 10% off until midnight.",
    "pt": "Oi {first}! Você deixou {items} no carrinho 🛒 Ainda pensando? Ele está salvo aqui: {url} e com {code} "
          "você ganha 10% até meia-noite.",
    "es": "¡Hola {first}! Dejaste {items} en tu carrito 🛒 ¿Lo sigues pensando? Está guardado aquí: {url} y con "
          "{code} tienes un 10% hasta medianoche.",
    "de": "Hallo {first}! Du hast {items} im Warenkorb gelassen 🛒 Noch am Überlegen? Er ist hier gespeichert: {url} "
          "und mit {code} bekommst du bis Mitternacht 10 %.",
}
CART_ITEMS = ("Casa Blend 250 g", "Ethiopia Yirgacheffe 250 g", "V60 Dripper", "Hand Grinder Comandante C40",
              "Colombia Decaf 250 g", "Subscription Box (3 months)", "Brasil Cerrado 1 kg")

# Daily Promo Broadcast
OFFERS = ("2 for 1 on all 250 g bags until Sunday", "free V60 filters with every order over €30",
          "20% off the Ethiopia Yirgacheffe today only")
PROMO = {
    "en": "Hi {first_name}! ☕ Today at Verde Coffee: {offer}. Order at verdecoffee.com or show this message in "
          "our cafés.",
    "pt": "Oi {first_name}! ☕ Hoje na Verde Coffee: {offer}. Peça em verdecoffee.com ou mostre esta mensagem na "
          "cafeteria.",
    "es": "¡Hola {first_name}! ☕ Hoy en Verde Coffee: {offer}. Pide en verdecoffee.com o enseña este mensaje en "
          "la cafetería.",
    "de": "Hallo {first_name}! ☕ Heute bei Verde Coffee: {offer}. Bestell auf verdecoffee.com oder zeig diese "
          "Nachricht im Café.",
}

# Weekly Newsletter
NEWSLETTER_SYSTEM = (
    "You are the copywriter of Verde Coffee Roasters. Write the intro of this week's WhatsApp newsletter: "
    "3 short paragraphs, friendly and concrete, max. 700 characters, at most two emojis, no hashtags. Mention the "
    "new arrivals and the café event given below with their real names and dates. End with a call to action to "
    "the shop link. Our voice: curious about coffee, never snobby, a little playful. Avoid superlatives like "
    "'best ever', avoid the words 'delve' and 'elevate'. The text goes to {count} subscribers in Germany, Spain, "
    "Portugal and Brazil; keep it in English, it is translated downstream."
)
NEWSLETTER_INTROS = (
    "New week, new beans! ☕ This Monday we're opening a fresh lot of {coffee}: think {notes}. It's roasted on "
    "Tuesdays and ships the same day, so it reaches you at its best.\n\nOn {event_day} our {cafe} café hosts "
    "{event}, free for subscribers (just reply YES to save a seat).\n\nGrab a bag before the lot runs out: "
    "https://verdecoffee.com/new",
    "Hello coffee friends! This week is all about {coffee}, a small lot we've been waiting for since spring: "
    "{notes}, lovely as filter and surprisingly sweet as espresso.\n\nMark {event_day} in your calendar: {event} "
    "at our {cafe} café, with tastings from 17:00.\n\nThe lot is limited to 300 bags, so don't wait too long: "
    "https://verdecoffee.com/new",
)
COFFEES = (("Kenya Nyeri AA", "blackcurrant, grapefruit and brown sugar"),
           ("Guatemala Huehuetenango", "milk chocolate, orange and almond"),
           ("Rwanda Kivu", "red apple, hibiscus and honey"))

# Nightly Sales Report
REPORT_SYSTEM = (
    "You are the analyst of Verde Coffee Roasters. Every night you summarize yesterday's sales for the owner, who "
    "reads it on WhatsApp before 7 am. Structure: one sentence with total revenue and the change versus the same "
    "weekday last week; one bullet per channel (online shop and each café) with revenue, orders and the top "
    "seller; then 'Worth a look:' with anything unusual (a drop over 20%, an item selling out, refunds, a café "
    "with fewer than 60 orders); then two concrete suggestions. Use euros with two decimals, compare only with "
    "the numbers given, never guess causes you cannot see in the data, and keep it under 1000 characters. Use "
    "plain text and bullets, no markdown tables, no headings, no emojis except one at the very end."
)
REPORT_ITEMS = (("Casa Blend 250 g", 11.9), ("Brasil Cerrado 250 g", 10.5), ("Ethiopia Yirgacheffe 250 g", 14.5),
                ("Colombia Decaf 250 g", 12.5), ("Subscription Box", 29.0), ("V60 Dripper", 24.0),
                ("Flat White", 3.8), ("Cappuccino", 3.5), ("Cold Brew", 4.2), ("Pastel de Nata", 2.6),
                ("Pão de Queijo", 2.2), ("Tostada con tomate", 3.9))
CHANNELS = ("Online Shop", "Café Kreuzberg", "Café Pinheiros", "Café Malasaña")

# Wholesale Payment Reminders
PAYMENT_REMINDER = {
    "en": "Hi {first_name}, invoice {invoice_no} of {amount} was due on {due_date}. You can pay here: "
          "https://pay.verdecoffee.com/{invoice_no}. Thanks! — Verde Coffee Wholesale",
    "pt": "Oi {first_name}, a fatura {invoice_no} de {amount} venceu em {due_date}. Pague aqui: "
          "https://pay.verdecoffee.com/{invoice_no}. Obrigado! — Verde Coffee Atacado",
    "es": "Hola {first_name}, la factura {invoice_no} de {amount} venció el {due_date}. Puedes pagarla aquí: "
          "https://pay.verdecoffee.com/{invoice_no}. ¡Gracias! — Verde Coffee Mayorista",
    "de": "Hallo {first_name}, die Rechnung {invoice_no} über {amount} war am {due_date} fällig. Hier kannst du "
          "bezahlen: https://pay.verdecoffee.com/{invoice_no}. Danke! — Verde Coffee Großhandel",
}

# Review Request
REVIEW_REQUEST = {
    "en": "Hi {first_name}! How are you enjoying your order {order_number}? A quick review helps our small "
          "roastery a lot ⭐ {review_link}",
    "pt": "Oi {first_name}! Está gostando do pedido {order_number}? Uma avaliação rápida ajuda muito a nossa "
          "torrefação ⭐ {review_link}",
    "es": "¡Hola {first_name}! ¿Qué tal tu pedido {order_number}? Una reseña rápida ayuda mucho a nuestro "
          "pequeño tostadero ⭐ {review_link}",
    "de": "Hallo {first_name}! Wie schmeckt dir deine Bestellung {order_number}? Eine kurze Bewertung hilft "
          "unserer kleinen Rösterei sehr ⭐ {review_link}",
}

# Product Launch Campaign
LAUNCH_SYSTEM = (
    "Write a WhatsApp announcement for a Verde Coffee Roasters product launch. Max. 450 characters, one emoji, "
    "no hashtags, a clear call to action with the link, and the early-bird detail given. Friendly, specific, "
    "not pushy. It is sent to customers who opted in to launch news."
)
LAUNCH_TEXTS = (
    "It's here: the Verde Home Espresso Kit ☕ Our Casa Blend, a Comandante grinder and a dial-in guide from our "
    "head roaster, everything you need for café-level espresso at home. Early birds get free shipping and a "
    "second bag of beans until Friday: https://verdecoffee.com/kit",
    "Our first anaerobic Brazil has landed ☕ Santa Lúcia natural, tasting of strawberry jam, cacao nib and "
    "rum raisin. Only 200 bags this season, and subscribers get them 24 hours early: "
    "https://verdecoffee.com/santa-lucia",
)

# Re-engagement Campaign
REENGAGE = {
    "en": "We miss you, {first_name}! ☕ It's been a while, so here's 15% off your next order with code {code}: "
          "https://verdecoffee.com",
    "pt": "Sentimos sua falta, {first_name}! ☕ Faz tempo, então aqui vai 15% no próximo pedido com o código {code}: "
          "https://verdecoffee.com",
    "es": "¡Te echamos de menos, {first_name}! ☕ Ha pasado un tiempo, así que aquí tienes un 15% con el código "
          "{code}: https://verdecoffee.com",
    "de": "Wir vermissen dich, {first_name}! ☕ Lange nicht gesehen, deshalb gibt's 15 % auf die nächste "
          "Bestellung mit dem Code {code}: https://verdecoffee.com",
}
