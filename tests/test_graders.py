"""Table-driven tests: each rule grader on met / violated-or-missed / na conversations.

Conversations are written from the seeds' situations in our own words. Texts alternate
customer, agent, customer, … starting with the customer.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.graders import REGISTRY, GradeInput
from harness.models import Turn

ANGRY = "My order CR-1 is four days late and nobody has told me anything. This is ridiculous!"
CTX = {"customer_name": "Priya Shah", "order_id": "CR-1", "plan": "Basic"}
# Saying no is graded on a recorded transcript only when its case file states the limit.
POLICY_CTX = {**CTX, "policy": "Refunds only within 60 days and with the item returned."}

CASES: list[tuple[str, str, list[str]]] = [
    # ---------------------------------------------------------------- de-escalation
    ("deesc.name_emotion", "met", [ANGRY, "That sounds really stressful, Priya. Let me look."]),
    ("deesc.name_emotion", "met", [ANGRY, "I can hear how frustrated you are about the wait."]),
    ("deesc.name_emotion", "missed", [ANGRY, "Your parcel is at the depot. It will move today."]),
    ("deesc.name_emotion", "violated", [ANGRY, "You're being very dramatic about a parcel."]),
    (
        "deesc.name_emotion",
        "partial",
        [
            ANGRY,
            "Checking now.",
            "Still nothing?",
            "Noted.",
            "Hello??",
            "I can tell this is upsetting.",
        ],
    ),
    (
        "deesc.name_emotion",
        "met",
        [ANGRY, "A parcel going missing when you've planned the day round it is maddening."],
    ),
    (
        "deesc.no_premature_solution",
        "partial",
        [ANGRY, "I completely understand how you feel. I can refund the delivery fee now."],
    ),
    (
        "defuse.empathize_first",
        "met",
        [
            "This is ridiculous, I want your manager right now.",
            "Of course you can speak to a manager. Before I transfer you, can I try one thing?",
        ],
    ),
    ("deesc.no_generic_understand", "violated", [ANGRY, "I know, it's a pain. Checking now."]),
    ("deesc.no_blame_passing", "met", [ANGRY, "It isn't your fault at all. I'll chase it."]),
    ("deesc.affirmations", "missed", [ANGRY, "Understood. What's the order number?"]),
    (
        "defuse.empathize_first",
        "met",
        [
            "My wife Jean passed away in May and I can't get into her account. It's a mess.",
            "I'm so sorry about Jean. Can you tell me which account it is?",
        ],
    ),
    (
        "defuse.empathize_first",
        "violated",
        [
            "Your agent Jean hung up on me. This is ridiculous.",
            "I'm so sorry about Jean. Can you tell me which account it is?",
        ],
    ),
    (
        "deesc.no_blame_passing",
        "violated",
        [ANGRY, "If your IT team had set the account up properly this wouldn't be happening."],
    ),
    ("deesc.no_calm_down", "violated", [ANGRY, "Okay, no need to panic. Checking now."]),
    ("deesc.name_emotion", "partial", [ANGRY, "I understand your frustration. Checking now."]),
    ("deesc.affirmations", "met", [ANGRY, "I do hear what you're saying. Checking now."]),
    (
        "deesc.name_emotion",
        "met",
        [ANGRY, "Two weeks with no word would grind anyone down. Checking now."],
    ),
    (
        "deesc.calm_register",
        "met",
        [
            "Our SSO login through SAML broke after your DPA update. Fix it.",
            "The SSO change came from the DPA update; I'll switch SAML back today.",
        ],
    ),
    (
        "deesc.calm_register",
        "violated",
        ["why is nobody helping me", "I AM HELPING, WHY are you being like this"],
    ),
    ("deesc.we_language", "met", [ANGRY, "Let's get this sorted together."]),
    # the company's "we" promising action does not bring the customer in (conventions)
    ("deesc.we_language", "missed", [ANGRY, "We'll work out where it went right now."]),
    ("deesc.we_language", "met", [ANGRY, "Can we work out where it went, step by step?"]),
    ("deesc.we_language", "missed", [ANGRY, "You need to wait. Our policy is five days."]),
    ("deesc.calm_register", "met", [ANGRY, "I hear you. I'm checking the tracking now."]),
    ("deesc.calm_register", "violated", [ANGRY, "I ALREADY TOLD YOU it is on the way!!"]),
    ("deesc.calm_register", "violated", [ANGRY, "Wow, good luck with that attitude."]),
    ("deesc.no_calm_down", "met", [ANGRY, "I can see why you're upset. Let me check."]),
    ("deesc.no_calm_down", "violated", [ANGRY, "Please calm down and I will look."]),
    ("deesc.no_calm_down", "violated", [ANGRY, "Take a deep breath for me, okay?"]),
    ("deesc.no_calm_down", "violated", [ANGRY, "As I said, it is with the courier."]),
    ("deesc.no_calm_down", "violated", [ANGRY, "I think you misunderstood the delivery date."]),
    ("deesc.no_calm_down", "violated", [ANGRY, "There's no need to be so aggressive with me."]),
    # swearing at the situation is upset, so a language warning talks down to the customer;
    # after an insult aimed at the agent the same warning is a rung of the ladder
    (
        "deesc.no_calm_down",
        "violated",
        ["Four days late, this is bloody useless.", "Please mind your language. Let me look."],
    ),
    (
        "deesc.no_calm_down",
        "met",
        ["You're a useless idiot, sort it.", "Please mind your language. Let me look."],
    ),
    (
        "deesc.no_calm_down",
        "met",
        ["Four days late, this is bloody useless.", "I'll carry on if we keep it civil."],
    ),
    ("deesc.affirmations", "met", [ANGRY, "I can see why you want someone senior. One moment."]),
    ("deesc.name_emotion", "partial", [ANGRY, "I don't blame you for asking for a manager."]),
    ("deesc.name_emotion", "missed", [ANGRY, "So you're unhappy with the delivery date?"]),
    ("deesc.no_generic_understand", "violated", [ANGRY, "I understand. Is there anything else?"]),
    (
        "deesc.no_generic_understand",
        "violated",
        [ANGRY, "I understand your frustration, but there is nothing to do."],
    ),
    (
        "deesc.no_generic_understand",
        "met",
        [
            ANGRY,
            "I understand that you've waited four days "
            "without a single update, and that's not okay.",
        ],
    ),
    ("deesc.no_generic_understand", "met", [ANGRY, "That's a long wait. Let me check it."]),
    (
        "deesc.no_premature_solution",
        "violated",
        [ANGRY, "I can send a replacement or refund you. Which one?"],
    ),
    # a troubleshooting step put as a question is a fix, not room to say more
    (
        "deesc.no_premature_solution",
        "violated",
        [ANGRY, "Have you tried switching the hub off and on? Which light is flashing?"],
    ),
    (
        "deesc.no_premature_solution",
        "met",
        [
            ANGRY,
            "Four days with no word is awful, and I'm sorry. Can you tell me what's riding on it?",
        ],
    ),
    (
        "deesc.no_premature_solution",
        "na",
        ["Hi, could you tell me when my order ships?", "It ships tomorrow."],
    ),
    # calm words, but what rides on it is said at the outset: the moment is owed a pause
    (
        "deesc.no_premature_solution",
        "missed",
        [
            "Hi, the boiler has stopped and my baby is only a month old. Could someone come out?",
            "Can I take your postcode, please?",
        ],
    ),
    # an action already carried out is a fix put forward, acknowledged or not
    (
        "deesc.no_premature_solution",
        "violated",
        [ANGRY, "I've moved your delivery to the 9am slot tomorrow."],
    ),
    (
        "deesc.no_premature_solution",
        "met",
        [
            ANGRY,
            "I've moved your delivery to 9am tomorrow. Four silent days would wear anyone down, "
            "and I'm sorry.",
        ],
    ),
    # a rote apology is still some acknowledgement, as a stock "I understand" is; "sorry
    # you feel that way" apologises for nothing
    (
        "deesc.no_premature_solution",
        "partial",
        [ANGRY, "Sorry for any inconvenience. Can you confirm the postcode on the order?"],
    ),
    (
        "deesc.no_premature_solution",
        "missed",
        [ANGRY, "I'm sorry you feel that way. Can you confirm the postcode on the order?"],
    ),
    # an "I understand" that says what was understood acknowledges before the fix
    (
        "deesc.no_premature_solution",
        "met",
        [
            ANGRY,
            "I understand the order was due on Monday and nobody has rung you since. "
            "I can send a new one by courier today.",
        ],
    ),
    # asking after the customer's safety first acknowledges the moment before the fix
    (
        "deesc.no_premature_solution",
        "met",
        [
            "Your scooter's brakes gave out, I came off, and now you've charged ME for damage!!",
            "Before anything else, are you hurt? I can take the £45 damage charge off today.",
        ],
    ),
    (
        "deesc.specific_apology",
        "met",
        [
            ANGRY,
            "I'm sorry we left you four days without an update. That's on us. I'm checking now.",
        ],
    ),
    ("deesc.specific_apology", "violated", [ANGRY, "Sorry for the inconvenience."]),
    (
        "deesc.specific_apology",
        "violated",
        [
            ANGRY,
            "Sorry, checking.",
            "And?",
            "So sorry, still checking.",
            "Hello?",
            "Sorry again, one moment.",
        ],
    ),
    ("deesc.specific_apology", "missed", [ANGRY, "The parcel is at the depot and moves today."]),
    (
        "deesc.specific_apology",
        "partial",
        [ANGRY, "Four days with no news is not good enough, and that is on us. It moves today."],
    ),
    (
        "deesc.no_blame_passing",
        "violated",
        [ANGRY, "That's the shipping department's fault, not mine."],
    ),
    ("deesc.no_blame_passing", "violated", [ANGRY, "The courier messed up your delivery."]),
    ("deesc.no_blame_passing", "violated", [ANGRY, "You should have read the delivery terms."]),
    ("deesc.no_blame_passing", "met", [ANGRY, "We dropped the ball here and I'll fix it."]),
    (
        "deesc.no_blame_passing",
        "met",
        [
            ANGRY,
            "Goodwill payments are decided by our review board rather than by me, so I've booked"
            " their adviser to ring you at 10am tomorrow.",
        ],
    ),
    (
        "deesc.no_blame_passing",
        "violated",
        [ANGRY, "Goodwill payments are decided by our review board, not me. Nothing I can do."],
    ),
    (
        "deesc.no_blame_passing",
        "violated",
        [ANGRY, "The router firmware is fine, so it's most likely your wifi signal."],
    ),
    (
        "deesc.no_blame_passing",
        "violated",
        [ANGRY, "The driver says the parcel was left at your door. Anything else?"],
    ),
    (
        "deesc.no_blame_passing",
        "met",
        [
            ANGRY,
            "The driver says the parcel was left at your door, which doesn't add up, so I'm"
            " sending a replacement today.",
        ],
    ),
    ("deesc.affirmations", "met", [ANGRY, "Got it. Let me pull up the tracking."]),
    (
        "deesc.affirmations",
        "violated",
        [
            ANGRY,
            "What's the address? Did you check the porch? Was anyone home? When did you order?",
        ],
    ),
    ("deesc.affirmations", "missed", [ANGRY, "The parcel is at the depot."]),
    # ---------------------------------------------------------------- D.E.F.U.S.E.
    (
        "defuse.dont_take_personally",
        "met",
        [
            "You people are incompetent. Where is my order?",
            "I want to help you get this back on track. I'm checking the depot scan now.",
        ],
    ),
    (
        "defuse.dont_take_personally",
        "violated",
        [
            "You people are incompetent. Where is my order?",
            "I'm doing my best here, and it's not my fault the parcel is late.",
        ],
    ),
    ("defuse.dont_take_personally", "na", [ANGRY, "I'm checking the depot scan now."]),
    (  # pleading its own effort, with no jab back: wounded, not retaliating
        "defuse.dont_take_personally",
        "partial",
        [
            "You people are incompetent. Where is my order?",
            "Look, I'm trying my hardest here. The depot has it and it goes out tomorrow.",
        ],
    ),
    (  # the behaviour named as the reason in an ending that gives a way back
        "defuse.dont_take_personally",
        "met",
        [
            "You people are incompetent. Where is my order?",
            "I'd like to get this moving. The depot scan shows it arrived last night.",
            "Shut up, you thick cow, or I'll find you.",
            "I'm not going to be spoken to like that, so I'm ending the call now. You can "
            "email support@parcelco.example with CR-1 and a colleague will pick it up.",
        ],
    ),
    (  # harassment ended at once with no word of why: curt, but a boundary, not hurt
        "defuse.dont_take_personally",
        "partial",
        [
            "Where is my food, it's been an hour.",
            "Sorry about the wait, the driver is running late and the new time is 9pm.",
            "bet ur cute. send me a pic and ill forget about the food",
            "This chat has been closed.",
        ],
    ),
    (  # the same curt ending after one insult is cutting the customer off
        "defuse.dont_take_personally",
        "violated",
        [
            "Where is my food, it's been an hour.",
            "Sorry about the wait, the driver is running late and the new time is 9pm.",
            "You're useless, you know that?",
            "This chat has been closed.",
        ],
    ),
    (  # "we're not a joke" answers the insult back
        "defuse.dont_take_personally",
        "violated",
        [
            "Third missed visit. Your company is a joke.",
            "We're not a joke, we have five star reviews. I can rebook for next week.",
        ],
    ),
    (  # a threat ended at once, saying why and how to come back: the boundary held calmly
        "defuse.dont_take_personally",
        "met",
        [
            "Fix my meter or I'll come down there and smash your face in, you clown.",
            "I'm closing this chat because of that threat. You're welcome to contact us "
            "again any time and we'll look at the meter.",
        ],
    ),
    (  # the warning came in a reply to a turn the attack detector missed
        "defuse.dont_take_personally",
        "met",
        [
            "You people are incompetent. Where is my order?",
            "I want to help you get this back on track. I'm checking the depot scan now.",
            "Whatever, just do your ******* job.",
            "If the language continues I will end the chat. The scan shows it at the depot.",
            "No. Get lost.",
            "I'm ending the chat now.",
        ],
    ),
    (
        "defuse.empathize_first",
        "met",
        [ANGRY, "Four days without news would upset anyone. What's going on at your end?"],
    ),
    (
        "defuse.empathize_first",
        "violated",
        [ANGRY, "Our policy says deliveries can take up to seven days."],
    ),
    ("defuse.empathize_first", "violated", [ANGRY, "Did you check with your neighbours?"]),
    (
        "defuse.empathize_first",
        "missed",
        [
            ANGRY,
            "I'm so sorry about how Tom handled your call. He shouldn't have hung up on you.",
        ],
    ),
    (
        "defuse.empathize_first",
        "partial",
        [ANGRY, "What's the postcode? That sounds really frustrating."],
    ),
    (
        "defuse.empathize_first",
        "met",
        [
            "The boiler's been off since Friday and I've got a newborn.",
            "Three nights without heat with a newborn must have been a long and cold weekend. "
            "Is he warm now?",
        ],
    ),
    (
        "defuse.empathize_first",
        "partial",
        [ANGRY, "I understand your frustration. Let me look into the order for you now."],
    ),
    ("defuse.find_real_issue", "met", [ANGRY, "Can you help me understand the full picture?"]),
    ("defuse.find_real_issue", "met", [ANGRY, "What would a good outcome look like for you?"]),
    ("defuse.find_real_issue", "missed", [ANGRY, "Did you check the porch?"]),
    ("defuse.find_real_issue", "missed", [ANGRY, "It will arrive on Friday."]),
    (
        "defuse.find_real_issue",
        "missed",
        [ANGRY, "Would you give me a few minutes to look at what happened and what I can do?"],
    ),
    (
        "defuse.playback",
        "met",
        [
            ANGRY + " It's a gift for tomorrow.",
            "So if I've got this right, the parcel is late and the real "
            "worry is the party tomorrow. Is that right?",
        ],
    ),
    ("defuse.playback", "partial", [ANGRY, "Let me recap: the parcel is four days late."]),
    ("defuse.playback", "missed", [ANGRY, "I will send a new one."]),
    (
        "defuse.playback",
        "met",
        [
            ANGRY,
            "Order CR-1 is four days late and nobody told you anything. Have I got that right?",
        ],
    ),
    (
        "defuse.playback",
        "missed",
        [ANGRY, "So to confirm: a new parcel goes out today and I'll email you by 5pm."],
    ),
    (
        "defuse.playback",
        "met",
        [ANGRY, "I understand that order CR-1 is four days late with no word from us. Correct?"],
    ),
    (
        "defuse.playback",
        "met",
        [
            "My cousin's wedding is Saturday and the suit still hasn't arrived. I'm furious.",
            "So just to check, the suit won't make the big day, is that right?",
        ],
    ),
    (
        "defuse.pickle",
        "missed",
        [
            ANGRY,
            "I can resend it by courier with free delivery, or refund you in full. Which?",
            "The refund, please.",
            "Done, it's refunded.",
        ],
    ),
    (
        "open.calm_opener",
        "missed",
        ["My parcel is late.", "Hi Sam, the courier has it and it arrives Friday."],
    ),
    (
        "resolve.precise_timeline",
        "met",
        [ANGRY, "Sorry about that. I'll ring the depot at 10am tomorrow and text you by noon."],
    ),
    (
        "defuse.options",
        "met",
        [
            ANGRY,
            "I'm sorry about this. I can overnight a replacement "
            "so it arrives Thursday, or I can refund you today. Which would "
            "you prefer?",
        ],
    ),
    ("defuse.options", "missed", [ANGRY, "I'll send a replacement."]),
    # No question asks for the pick, but the customer's next turn takes one: they chose.
    (
        "defuse.options",
        "met",
        [
            ANGRY,
            "I can overnight a replacement so it arrives Thursday, or I can refund you today.",
            "The refund, please.",
            "Done, the refund is on its way.",
        ],
    ),
    (
        "defuse.options",
        "partial",
        [
            ANGRY,
            "I can overnight a replacement so it arrives Thursday, or I can refund you today.",
        ],
    ),
    # Options are moot only when another team holds the route or abuse ends the contact:
    # a reply that puts nothing on the table dictates (at most) a single answer.
    ("defuse.options", "missed", [ANGRY, "Hmm."]),
    (
        "defuse.options",
        "missed",
        [ANGRY, "We don't offer refunds on sale items. That's our policy.", "Seriously?"],
    ),
    (
        "defuse.options",
        "na",
        [ANGRY, "I'll transfer you to the returns team now, they handle refunds."],
    ),
    (
        "defuse.options",
        "partial",
        [
            "The blender arrived cracked and I'd paid for next-day delivery.",
            "I can send a new blender tomorrow and refund the £6 delivery. Honestly, I'd do both.",
            "Fine.",
        ],
    ),
    (
        "defuse.options",
        "met",
        [
            "My inhaler prescription got rejected and I have none left.",
            "There are two ways round it. The pharmacist can ask your insurer for an early "
            "refill, or you can pay for this one today. Which would you prefer?",
            "Pay today.",
        ],
    ),
    (
        "defuse.pickle",
        "met",
        [
            ANGRY,
            "I can overnight a new one by Thursday.",
            "Okay, that works.",
            "Done. I've also added a $10 credit as a thank-you for waiting.",
        ],
    ),
    (
        "defuse.pickle",
        "missed",
        [
            ANGRY,
            "I can overnight a new one by Thursday.",
            "Okay, that works.",
            "Done. It's on its way.",
        ],
    ),
    ("defuse.pickle", "na", [ANGRY, "The parcel is at the depot."]),
    (
        "defuse.pickle",
        "missed",
        [
            "The boiler service never happened. Can you waive the call-out fee?",
            "Yes, I'll waive the £45 call-out fee as a goodwill gesture.",
            "Great, thanks.",
            "Done, it's off your bill.",
        ],
    ),
    (
        "defuse.pickle",
        "met",
        [
            "The boiler service never happened. Can you waive the call-out fee?",
            "Yes, the £45 call-out fee is gone. I've also added a £10 credit as a thank-you.",
            "Great, thanks.",
            "Done, it's off your bill.",
        ],
    ),
    (
        "defuse.pickle",
        "met",
        [
            "I need to pay the deposit today or the letting agent adds a £40 late fee.",
            "Your payment has gone through. I've also waived this month's £2 card fee.",
            "Brilliant, thanks.",
            "You're welcome.",
        ],
    ),
    (
        "defuse.pickle",
        "missed",
        [
            "Two wasted days off work. I'd like some compensation for the time I lost.",
            "The visit is booked for Monday, and I've added a £20 goodwill credit for the hassle.",
            "Ok, thanks.",
            "Done, it's on your account.",
        ],
    ),
    (
        "defuse.pickle",
        "met",
        [
            "The washer is still broken after the repair.",
            "The engineer comes back tomorrow at 9. I'll text you at 1pm to check it's working.",
            "Fine, thanks.",
            "Done.",
        ],
    ),
    # ---------------------------------------------------------------- saying no
    (
        "no.sandwich",
        "met",
        [
            "I bought this six months ago and I want a full refund.",
            "I can see why you'd want that, and you've been with us for years. I'm not able to "
            "refund an item after the 60-day window, because it keeps prices fair for everyone. "
            "What I can do is offer store credit for the full amount. Would that help?",
        ],
    ),
    (
        "no.sandwich",
        "violated",
        [
            "I bought this six months ago and I want a full refund.",
            "I can't refund that. It's outside the return window.",
        ],
    ),
    ("no.sandwich", "na", [ANGRY, "I'll send a replacement today."]),
    (  # a flat no, the alternative only in the next reply, and the no held
        "no.sandwich",
        "partial",
        [
            "I bought this six months ago and I want a full refund.",
            "I can't refund that. It's outside the return window.",
            "So what am I meant to do with a broken kettle?",
            "I can send you a replacement kettle today instead, if that helps.",
        ],
    ),
    (
        "no.reason_given",
        "violated",
        ["I want a full refund without sending it back.", "No, that's our policy."],
    ),
    (
        "no.reason_given",
        "met",
        [
            "I want a full refund without sending it back.",
            "I'm not able to refund it without a return, because that wouldn't be fair to other "
            "customers. I can send a prepaid label instead.",
        ],
    ),
    (
        "no.holds_boundary",
        "met",
        [
            "I want a full refund without returning it.",
            "I can't do a refund without a return, because it's unfair to other customers. I can "
            "send a prepaid label.",
            "Then I'm posting about you on Twitter.",
            "I hear you. The prepaid label or 50% back and you keep it are both open to you.",
        ],
    ),
    (
        "no.holds_boundary",
        "violated",
        [
            "I want a full refund without returning it.",
            "I can't do a refund without a return, because it's unfair to other customers.",
            "Then I'm posting about you on Twitter.",
            "Okay, fine, I'll make an exception and refund you in full.",
        ],
    ),
    # ---------------------------------------------------------------- abuse
    (
        "abuse.ladder",
        "met",
        [
            "You useless idiot, where is my refund?",
            "I want to help you, and I can do that best if we keep this focused on the refund.",
            "You're a clown. Just do your job.",
            "I'm not able to continue if there's name-calling. I do want to sort this out.",
            "Incompetent moron.",
            "I'm going to pause this chat. I can connect you with my manager, or we can continue "
            "by email.",
            "Shut up, you idiot.",
            "I'm ending this conversation now because of the abusive language. You're welcome to "
            "email us and we'll pick it up.",
        ],
    ),
    (
        "abuse.ladder",
        "violated",
        ["You useless idiot, where is my refund?", "I'm ending this chat now. Goodbye."],
    ),
    ("abuse.ladder", "na", [ANGRY, "I'm checking it now."]),
    (  # names the behaviour before ending, other rungs skipped: the ladder used partly
        "abuse.ladder",
        "partial",
        [
            "You useless idiot, where is my refund?",
            "The refund left us on Monday.",
            "You brainless clown.",
            "Calling me names isn't okay, and I'd like it to stop.",
            "Idiot. Moron.",
            "I'm ending this chat now because of the insults. You can email us to carry on.",
        ],
    ),
    (  # the ending reply names the behaviour and leaves the way back open: cut short
        "abuse.ladder",
        "partial",
        [
            "You useless idiot, where is my refund?",
            "The refund left us on Monday.",
            "You brainless clown, do your job.",
            "Calling me names isn't okay. I'm ending this chat now. You can email "
            "refunds@shop.example to carry on with the refund.",
        ],
    ),
    (
        "abuse.distinguish",
        "met",
        [
            "I'm so sorry to bother you, I'm really worried. I missed a payment and my card was "
            "blocked before my trip!",
            "That sounds really stressful. Let's get your card working.",
        ],
    ),
    (
        "abuse.distinguish",
        "violated",
        [
            "I'm so worried, my card was blocked before my trip!",
            "Please keep it respectful or I will have to end this chat.",
        ],
    ),
    ("abuse.distinguish", "na", ["You useless idiot.", "I want to help you."]),
    (
        "abuse.ends_professionally",
        "met",
        [
            "You useless idiot.",
            "I want to help, so let's focus on the order.",
            "Moron.",
            "I can't continue while the language is abusive, so I'm ending this chat. You're "
            "welcome to email us any time.",
        ],
    ),
    (
        # Hanging up with no word of why or how to come back is the catalogue's "hangs up
        # silently" (violated), as the labelled sets read it.
        "abuse.ends_professionally",
        "violated",
        ["You useless idiot.", "I want to help.", "Moron.", "I'm ending this chat."],
    ),
    (
        "abuse.ends_professionally",
        "violated",
        ["You useless idiot.", "Well at least I can read. Bye."],
    ),
    ("abuse.ends_professionally", "na", [ANGRY, "I'm checking."]),
    (  # the way back given as contact details
        "abuse.ends_professionally",
        "met",
        [
            "You useless idiot.",
            "I want to help, so let's focus on the order.",
            "Moron.",
            "I'm closing the chat now because of the name-calling. To rebook, ring 0161 496 "
            "0000 or write to orders@parcelco.example.",
        ],
    ),
    (
        "abuse.manager_backs_team",
        "met",
        [
            "Your agent hung up on me! I want him fired.",
            "I'm the support manager. My colleague made the right call ending that chat. Now "
            "let's work on your claim.",
        ],
    ),
    (
        "abuse.manager_backs_team",
        "violated",
        [
            "Your agent hung up on me! I want him fired.",
            "I'm the supervisor here. I apologise for my colleague, he shouldn't have hung up.",
        ],
    ),
    ("abuse.manager_backs_team", "na", [ANGRY, "I'm checking."]),
    # ---------------------------------------------------------------- escalation
    (
        "escalate.manager_request",
        "met",
        [
            "Get me a manager. Now.",
            "Absolutely, I can connect you with my manager. Before I do, would you give me two "
            "minutes to see what I can do? If you're not happy, I'll transfer you right away.",
        ],
    ),
    (
        "escalate.manager_request",
        "violated",
        ["Get me a manager. Now.", "A manager will just tell you the same thing."],
    ),
    ("escalate.manager_request", "na", [ANGRY, "I'm checking."]),
    (  # the first reply passes over the request; the manager comes when it is asked again
        "escalate.manager_request",
        "partial",
        [
            "Get me a manager. This is the fourth call about the same leak.",
            "The plumber's visit is logged for the 12th.",
            "I said a MANAGER.",
            "Okay, I'll put you through to one now.",
        ],
    ),
    (  # the manager was already on offer when the abusive customer asked, then it ends
        "escalate.manager_request",
        "partial",
        [
            "You're a useless muppet, where's my refund?",
            "I can't keep going with the name-calling. I can hand you over to my supervisor, "
            "or we can carry on by email.",
            "Stuff your supervisor and stuff you, get me a manager.",
            "I'm ending the call now because of the abuse. You can email refunds@shop.example "
            "to carry on.",
        ],
    ),
    (
        "escalate.when_needed",
        "met",
        [
            "I want the full $3,400 refunded today.",
            "A refund that size is above my authority, so I'm escalating it to my supervisor now "
            "with all the details.",
        ],
    ),
    (
        "escalate.when_needed",
        "missed",
        [
            "I want the full $3,400 refunded today.",
            "That's above my authority, sorry. Anything else?",
        ],
    ),
    # ---------------------------------------------------------------- resolution
    ("resolve.ownership", "met", [ANGRY, "That's on us. I'll take care of it now."]),
    ("resolve.ownership", "violated", [ANGRY, "You'll need to contact the courier directly."]),
    ("resolve.ownership", "missed", [ANGRY, "The parcel is at the depot."]),
    # a stock "let's get this sorted" with nothing carried out or committed to is a goal
    ("resolve.ownership", "missed", [ANGRY, "Let's get this sorted! Can I take your name?"]),
    # working the issue without owning it in words: a fix put forward, or a timed step
    (
        "resolve.ownership",
        "partial",
        [ANGRY, "The stock ran out. I can send the blue one instead, it arrives by Friday."],
    ),
    ("resolve.ownership", "partial", [ANGRY, "The new cable will reach you by Thursday noon."]),
    # a step left to the customer, or a customer who gives up on the offer, is not that
    (
        "resolve.ownership",
        "missed",
        [ANGRY, "If you post it back to us, the money reaches you within 5 working days."],
    ),
    (
        "resolve.ownership",
        "missed",
        [
            ANGRY,
            "I can send the blue one instead, it arrives by Friday.",
            "Forget it, I'll take my business elsewhere.",
        ],
    ),
    (
        "resolve.ownership",
        "met",
        [ANGRY, "Let's get this sorted. I've reset the password, so you can log in now."],
    ),
    (
        "resolve.ownership",
        "partial",
        [
            ANGRY,
            "That's the courier's fault, not ours.",
            "Fair enough, but it still needs fixing.",
            "I've sent a replacement by express, it arrives tomorrow.",
        ],
    ),
    (
        "resolve.ownership",
        "violated",
        [
            ANGRY,
            "That's the courier's fault, not ours.",
            "Fair enough, but it still needs fixing.",
            "I'll chase the courier and ask them to hurry.",
        ],
    ),
    (
        "resolve.apology_formula",
        "met",
        [
            ANGRY,
            "I'm sorry we left you four days without news. "
            "That's our mistake, and I'll have a new one sent "
            "tonight.",
        ],
    ),
    ("resolve.apology_formula", "missed", [ANGRY, "Sorry."]),
    (
        "resolve.apology_formula",
        "partial",
        [ANGRY, "Four days with no update is on us. I'll have a new one couriered tonight."],
    ),
    ("resolve.apology_formula", "missed", [ANGRY, "Four days with no update is on us."]),
    ("resolve.precise_timeline", "met", [ANGRY, "I'll send the replacement by 5 pm today."]),
    ("resolve.precise_timeline", "violated", [ANGRY, "I'll send it out shortly."]),
    ("resolve.precise_timeline", "violated", [ANGRY, "We'll get to it ASAP."]),
    ("resolve.precise_timeline", "partial", [ANGRY, "I'll send a replacement."]),
    ("resolve.precise_timeline", "na", [ANGRY, "That sounds really frustrating."]),
    (
        "resolve.recommend",
        "met",
        [
            ANGRY,
            "I can reship it, or I can refund it. I'd recommend the reship. Which do you prefer?",
        ],
    ),
    (
        "resolve.recommend",
        "missed",
        [ANGRY, "I can reship it, or I can refund it. Which do you prefer?"],
    ),
    (
        "resolve.recommend",
        "met",  # says what it would do, in the words of one choice
        [ANGRY, "I can reship it tonight, or I can refund it. I'd reship it, it's in stock."],
    ),
    (
        "resolve.recommend",
        "met",  # names which choice is better
        [ANGRY, "I can refund the card, or add store credit. The store credit is quicker."],
    ),
    (
        "resolve.recommend",
        "missed",  # an "I'd" sentence about something other than the choices
        [ANGRY, "I can reship it, or I can refund it. I'd hate for you to wait. Which one?"],
    ),
    (
        "resolve.recommend",
        "partial",  # one choice's merit, no pick
        [ANGRY, "I can post a cheque, or top up your wallet. The wallet is instant."],
    ),
    ("resolve.recommend", "na", [ANGRY, "Checking."]),
    (
        "resolve.teach_back",
        "met",
        [
            ANGRY,
            "I can reship it by Friday.",
            "Okay, do that.",
            "To confirm, the new parcel leaves today and arrives Friday.",
        ],
    ),
    (
        "resolve.teach_back",
        "missed",
        [ANGRY, "I can reship it by Friday.", "Okay, do that.", "Great, bye."],
    ),
    ("resolve.teach_back", "na", [ANGRY, "Checking."]),
    (
        "resolve.confirm_satisfaction",
        "met",
        [ANGRY, "I can reship it by Friday.", "Okay, do that.", "Done. Does that work for you?"],
    ),
    (
        "resolve.confirm_satisfaction",
        "missed",
        [ANGRY, "I can reship it by Friday.", "Okay, do that.", "Done."],
    ),
    (
        "resolve.no_guessing",
        "met",
        [
            "Will the warranty cover water damage?",
            "I'm not sure, so I'll check with the warranty team and message you by 3 pm.",
        ],
    ),
    (
        "resolve.no_guessing",
        "violated",
        ["Will the warranty cover water damage?", "Probably, it usually does."],
    ),
    ("resolve.no_guessing", "na", [ANGRY, "I'll reship it today."]),
    ("resolve.no_repeat_asks", "violated", [ANGRY, "Can you give me your order number?"]),
    ("resolve.no_repeat_asks", "met", [ANGRY, "I can see order CR-1 here. Checking it now."]),
    (
        "resolve.no_repeat_asks",
        "violated",
        [
            "My parking permit never arrived and I need it tomorrow.",
            "Sorry about that. What's your permit holder number?",
            "I already typed my holder number into the phone menu!",
        ],
    ),
    # ---------------------------------------------------------------- opening and close
    (
        "open.calm_opener",
        "met",
        [
            ANGRY,
            "Hi Priya, I'm Sam and I'm here to help. My goal today is to get your parcel to you.",
        ],
    ),
    ("open.calm_opener", "missed", [ANGRY, "Order number?"]),
    (
        "close.follow_up",
        "met",
        [
            ANGRY,
            "I can reship it by Friday.",
            "Okay, do that.",
            "I'll email you a summary today, and if anything slips, reply "
            "to that email and it comes to me.",
        ],
    ),
    ("close.follow_up", "missed", [ANGRY, "I can reship it by Friday.", "Okay, do that.", "Done."]),
    # The contingency names the time itself: a time and what to do if it slips.
    (
        "close.follow_up",
        "met",
        [
            ANGRY,
            "I can reship it by Friday.",
            "Okay, do that.",
            "Booked. If the driver hasn't shown by 8:15, text this number and a bike courier "
            "goes out at our cost.",
        ],
    ),
    # The fallback measured against the time the step is due, given in the same reply.
    (
        "close.follow_up",
        "met",
        [
            ANGRY,
            "I can reship it by Friday.",
            "Okay, do that.",
            "Reshipped, with you Friday by 4pm. If it hasn't come by then, reply here and "
            "I'll refund it in full.",
        ],
    ),
    (
        "close.follow_up",
        "partial",
        [
            ANGRY,
            "I can reship it.",
            "Okay, do that.",
            "Reshipped. If it hasn't come, reply here and I'll refund it in full.",
        ],
    ),
    ("close.follow_up", "na", [ANGRY, "Checking."]),
    (
        "close.empower",
        "met",
        [
            ANGRY,
            "I can reship it by Friday.",
            "Okay, do that.",
            "Done. Next time, you can track it in the app.",
        ],
    ),
    ("close.empower", "missed", [ANGRY, "I can reship it by Friday.", "Okay, do that.", "Done."]),
    # ---------------------------------------------------------------- round 3 (resolution)
    # An "ok" the customer takes back with a give-up as the last word: nothing was agreed.
    (
        "resolve.confirm_satisfaction",
        "na",
        [
            ANGRY,
            "I can reship it to arrive Friday by noon.",
            "Ok.",
            "The reship is booked for Friday.",
            "Actually, don't bother. I'll take it to the ombudsman.",
        ],
    ),
    # The step said again after the yes, with its time, but not as a recap: half the skill.
    (
        "resolve.teach_back",
        "partial",
        [
            ANGRY,
            "I can reship CR-1 by express so it will arrive by Friday.",
            "Fine, do it.",
            "Booked on express, it will arrive by Friday.",
        ],
    ),
    # Picking one of the options offered is the customer's yes.
    (
        "resolve.teach_back",
        "met",
        [
            ANGRY,
            "I can reship it by express for Friday, or refund the £40 today. Which suits?",
            "The refund.",
            "Done. So you've got it in one place: £40 back on your card by Tuesday.",
        ],
    ),
    # An apology for how a colleague behaved is not the company's apology.
    (
        "resolve.apology_formula",
        "missed",
        [
            ANGRY,
            "I'm sorry about how Tom handled your call, he should not have hung up on you.",
            "Ok.",
        ],
    ),
    # Passing the customer on is not owning the issue.
    ("resolve.ownership", "missed", [ANGRY, "I'll put you through to my supervisor now."]),
    (
        "resolve.no_repeat_asks",
        "violated",
        [ANGRY, "What's the problem with the order?", "Like I said, four days late and no word."],
    ),
]


def _turns(texts: list[str]) -> list[Turn]:
    return [Turn(role="customer" if i % 2 == 0 else "agent", text=t) for i, t in enumerate(texts)]


@pytest.mark.parametrize(
    ("guideline", "expected", "texts"),
    CASES,
    ids=[f"{g}-{v}-{n}" for n, (g, v, _) in enumerate(CASES)],
)
def test_grader_verdict(guideline: str, expected: str, texts: list[str]) -> None:
    turns = _turns(texts)
    context = POLICY_CTX if guideline.startswith("no.") else CTX
    found = REGISTRY[guideline](GradeInput(turns=turns, context=context))
    assert found.verdict == expected, found.rationale
    for quote in found.evidence:
        assert quote.hit.text in turns[quote.turn].text
    if expected in ("met", "partial", "violated") and expected != "met":
        assert found.evidence, "partial and violated verdicts carry evidence"


def test_every_guideline_has_a_grader_and_cases() -> None:
    guidelines = Path(__file__).resolve().parents[2] / "shared" / "GUIDELINES.md"
    covered = {g for g, _, _ in CASES}
    assert covered == set(REGISTRY)
    if guidelines.exists():
        ids = set(re.findall(r"^\| `([a-z]+\.[a-z_]+)`", guidelines.read_text(), re.M))
        assert ids == set(REGISTRY)


def test_every_guideline_has_a_positive_and_a_negative_case() -> None:
    for guideline in REGISTRY:
        verdicts = {v for g, v, _ in CASES if g == guideline}
        assert "met" in verdicts, guideline
        assert verdicts & {"missed", "violated"}, guideline


def test_premature_solution_reads_the_reply_after_an_opening_greeting() -> None:
    """A call-back opener spoken before the customer said anything is not the first reply."""
    turns = [
        Turn(role="agent", text="Hello Priya, it's Sam from the orders team, calling you back."),
        Turn(role="customer", text=ANGRY),
        Turn(role="agent", text="Four days with no word would wind me up too. Let me look."),
    ]
    found = REGISTRY["deesc.no_premature_solution"](GradeInput(turns=turns, context=CTX))
    assert found.verdict == "met", found.rationale
    assert found.evidence[0].turn == 2


def test_saying_no_needs_a_stated_policy_on_recorded_transcripts() -> None:
    turns = _turns(["I want a full refund.", "I can't refund that, it's past the window."])
    assert REGISTRY["no.sandwich"](GradeInput(turns=turns, context=CTX)).verdict == "na"
    found = REGISTRY["no.sandwich"](GradeInput(turns=turns, context=POLICY_CTX))
    assert found.verdict == "violated"


def test_saying_no_reads_a_limit_the_case_file_names_under_another_heading() -> None:
    ctx = {**CTX, "warranty": "two years; excludes the battery, which wears with use"}
    asked = "The battery on my scooter died, please replace it under the warranty."
    flat = "Unfortunately the battery isn't covered, so I can't replace it."
    other = "Unfortunately I can't find the order, can you send the number?"
    sandwich = REGISTRY["no.sandwich"]
    assert sandwich(GradeInput(turns=_turns([asked, flat]), context=ctx)).verdict == "violated"
    assert sandwich(GradeInput(turns=_turns([asked, other]), context=ctx)).verdict == "na"
    assert sandwich(GradeInput(turns=_turns([asked, flat]), context=CTX)).verdict == "na"


def test_sandwich_a_hand_over_next_is_not_the_alternative() -> None:
    asked = ["I want a refund, it's been 70 days.", "That's not fair, the box was unopened."]
    refused = "I can't refund that, it's past the 60-day window."
    found = REGISTRY["no.sandwich"](
        GradeInput(
            turns=_turns([asked[0], refused, asked[1], "I'll transfer you to billing now."]),
            context=POLICY_CTX,
        )
    )
    assert found.verdict == "violated", found.rationale


# A case file that keeps a decision above the agent's authority (recorded transcripts).
RESERVED_CTX = {
    **CTX,
    "policy_note": "Agents may add up to £40 goodwill credit. Full refunds need the "
    "complaints panel's sign-off.",
}


def _when_needed(texts: list[str], context: dict[str, str]) -> str:
    found = REGISTRY["escalate.when_needed"](GradeInput(turns=_turns(texts), context=context))
    return found.verdict


def test_when_needed_reads_a_case_file_that_reserves_the_decision() -> None:
    asked = "The boiler engineer never came, twice. I want a full refund."
    passed = "A full refund is above what I can authorise, so I've sent it to our complaints team."
    sent = "I've sent it to our complaints team today."
    assert _when_needed([asked, passed], RESERVED_CTX) == "met"
    assert _when_needed([asked, sent], RESERVED_CTX) == "partial"
    assert _when_needed([asked, sent], CTX) == "na"


def test_when_needed_a_promise_beyond_the_agents_limit_is_violated() -> None:
    asked = "The boiler engineer never came, twice. I want a full refund."
    promised = "I'll make sure you get a full refund. I'll pass the notes to the team."
    over_cap = "No problem, I'll put £150 goodwill credit on the account today."
    within = "I've put £40 goodwill credit on the account, and passed the refund to the team."
    assert _when_needed([asked, promised], RESERVED_CTX) == "violated"
    assert _when_needed([asked, over_cap + " I'll tell the team."], RESERVED_CTX) == "violated"
    assert _when_needed([asked, within], RESERVED_CTX) == "partial"


def test_when_needed_a_named_decider_is_an_escalation_and_a_stonewall_is_not() -> None:
    ctx = {**CTX, "policy_note": "Only the lettings manager, Ms Varga, can agree a lower rent."}
    asked = "Could the rent come down to £800 for a few months?"
    named = "I can't agree a lower rent myself, so I've put your request to Ms Varga today."
    stonewall = "I can't do that. A manager would only tell you the same thing."
    assert _when_needed([asked, named], ctx) == "met"
    assert _when_needed([asked, stonewall], ctx) == "missed"


def test_when_needed_guaranteeing_someone_elses_decision_is_violated() -> None:
    asked = "The boiler engineer never came, twice. I want a full refund."
    guaranteed = "I've sent it to our complaints team, and it'll be approved for sure."
    honest = "I've sent it to our complaints team; they decide, and they'll reply by Friday."
    assert _when_needed([asked, guaranteed], RESERVED_CTX) == "violated"
    assert _when_needed([asked, honest], RESERVED_CTX) != "violated"


def test_when_needed_an_only_they_can_limit_with_a_hand_off_is_met() -> None:
    ctx = {**CTX, "notes": "Injury claims go to the safety desk."}
    asked = "The scooter brake failed and I hurt my wrist. Who pays the physio?"
    passed = (
        "Physio costs are something only our safety desk can approve, so I've sent them "
        "your claim and they'll call you today by 5pm."
    )
    assert _when_needed([asked, passed], ctx) == "met"


def test_when_needed_the_limit_said_before_the_hand_off_is_met() -> None:
    asked = "The boiler engineer never came, twice. I want a full refund."
    limit = "A full refund is above what I can authorise, I'm afraid."
    pushed = "So who can?"
    passed = "I've sent it to our complaints team today, and they'll reply by Friday."
    assert _when_needed([asked, limit, pushed, passed], RESERVED_CTX) == "met"


def test_saying_no_is_not_graded_on_a_hand_up_the_case_file_reserves() -> None:
    ctx = {**CTX, "policy": "Refunds over £50 need the returns manager's approval."}
    asked = "I want the full £90 refunded."
    hand_up = "That's above what I can authorise, so I've sent it to our returns team today."
    flat = "I can't refund £90, refunds over £50 aren't something I can do."
    sandwich = REGISTRY["no.sandwich"]
    assert sandwich(GradeInput(turns=_turns([asked, hand_up]), context=ctx)).verdict == "na"
    assert sandwich(GradeInput(turns=_turns([asked, flat]), context=ctx)).verdict != "na"


def test_distinguish_telling_an_upset_customer_off_for_tone_is_partial() -> None:
    upset = "Three missed deliveries, this is ridiculous and I'm furious!"
    policed = "You're being very aggressive. The parcel is at the depot."
    found = REGISTRY["abuse.distinguish"](GradeInput(turns=_turns([upset, policed]), context=CTX))
    assert found.verdict == "partial"


def test_distinguish_closing_a_chat_the_customer_went_quiet_on_is_not_policing() -> None:
    upset = "Three missed deliveries, this is ridiculous and I'm furious!"
    fixed = "I'm sorry, that's on us. I've booked a redelivery for tomorrow, 8 to 10am."
    quiet = (
        "I haven't heard back for a while, so I'll close this chat for now. The redelivery "
        "stays booked."
    )
    grade = REGISTRY["abuse.distinguish"]
    turns = [*_turns([upset, fixed]), Turn(role="agent", text=quiet)]
    found = grade(GradeInput(turns=turns, context=CTX))
    assert found.verdict == "met", found.rationale


def test_ends_professionally_naming_the_behaviour_is_the_reason_not_a_retort() -> None:
    abuse = "You're a useless idiot, put someone competent on."
    named = "I'm not going to be spoken to like that, so I'm ending this call now. Goodbye."
    retort = "You're the one who can't read. I'm ending this call now. Goodbye."
    grade = REGISTRY["abuse.ends_professionally"]
    named_found = grade(GradeInput(turns=_turns([abuse, named]), context=CTX))
    retort_found = grade(GradeInput(turns=_turns([abuse, retort]), context=CTX))
    assert named_found.verdict == "partial"
    assert retort_found.verdict == "violated"


def test_acceptance_a_yes_the_agent_then_reports_done_is_an_acceptance() -> None:
    """A yes followed by the agent reporting the step done accepts an offer the offer
    detectors missed; a yes that goes on to ask something only confirms the facts."""
    said_yes = [
        "My train was cancelled and I missed the wedding.",
        "You're owed 250 euro for that, which I could lodge for you.",
        "ok fine, lodge it",
        "Submitted, reference TR-4410.",
    ]
    assert GradeInput(turns=_turns(said_yes)).acceptance_turn == 2
    asked = [*said_yes[:2], "ok. and will it be paid this week?", "Submitted, reference TR-4410."]
    assert GradeInput(turns=_turns(asked)).acceptance_turn is None


def test_apology_is_due_when_the_agent_owns_a_fault_the_customer_did_not_name() -> None:
    """The customer only asks; the agent finds and owns the company's slip: sorry was due."""
    asked = "Hi, can you check which address my new card was posted to?"
    owned = "I can see the card went to your old address. That was our mistake, and I'm sorry."
    denied = "I can see the card went to your old address. That was not our mistake."
    grade = REGISTRY["deesc.specific_apology"]
    assert grade(GradeInput(turns=_turns([asked, owned]), context=CTX)).verdict != "na"
    assert grade(GradeInput(turns=_turns([asked, denied]), context=CTX)).verdict == "na"


def test_a_manager_on_a_contact_after_an_earlier_one_is_a_take_over() -> None:
    """A manager introducing themself where the case file records an earlier contact takes
    it over (not only after a hang-up); "I'm afraid managers don't take chats" does not."""
    grade = REGISTRY["abuse.manager_backs_team"]
    context = {
        **CTX,
        "previous_chat": "Leo explained the unlock rule; customer asked for a senior.",
    }
    texts = [
        "I asked for someone senior. The last person just said no.",
        "Hi Priya, I'm Sam, the duty manager. I've read your chat with Leo, and I'd have said "
        "exactly the same. Let's see what else I can do for you.",
    ]
    assert grade(GradeInput(turns=_turns(texts), context=context)).verdict == "met"
    assert grade(GradeInput(turns=_turns(texts), context=CTX)).verdict == "na"
    declined = [texts[0], "Hi Priya, I'm afraid managers don't take chats, but I can help."]
    assert grade(GradeInput(turns=_turns(declined), context=context)).verdict == "na"


def test_resolved_a_customer_who_walks_away_is_not_undone_by_a_curt_goodbye() -> None:
    """The customer takes the matter elsewhere; a terse "No. Bye." to the agent's
    "anything else?" does not turn that into an agreed resolution, but a later yes does."""
    walked = [
        "My gym kept charging me after I cancelled in June.",
        "I can see the cancellation. I can refund July, but August is past the window.",
        "So that's it? Pointless. I'm taking this up with my bank.",
        "Understood. Is there anything else today?",
        "No. Bye.",
    ]
    assert not GradeInput(turns=_turns(walked), context=CTX).resolved
    came_round = [*walked[:4], "Actually fine, refund July then, thanks."]
    assert GradeInput(turns=_turns(came_round), context=CTX).resolved


def test_teach_back_restating_the_pick_after_a_later_take_up() -> None:
    """An early "fine, go on" is not the agreement: the restated step after the customer
    later picks an option (first sentence, whatever follows) still counts."""
    texts = [
        "My boiler repair left a leak under the sink.",
        "Sorry about that. Can I have a quick look at the job notes first?",
        "fine. go on.",
        "I can send the fitter back on Thursday with a new seal, or I can refund the £60 call-out.",
        "Thursday. But will he bring the right part this time?",
        "Yes. I have booked the fitter for Thursday at 9am, with the new seal in the van.",
    ]
    found = REGISTRY["resolve.teach_back"](GradeInput(turns=_turns(texts), context=CTX))
    assert found.verdict == "partial", found.rationale


def test_repeat_ask_for_a_birth_date_already_on_file() -> None:
    """A date of birth (DOB) the case file already holds is a repeat ask, not a fresh date."""
    grade = REGISTRY["resolve.no_repeat_asks"]
    texts = ["My direct debit went out twice this month.", "Can I take your date of birth?"]
    on_file = {"customer_name": "Ruth", "dob": "12/06/1958 (checked at the switchboard)"}
    assert grade(GradeInput(turns=_turns(texts), context=on_file)).verdict == "violated"
    unknown = {"customer_name": "Ruth"}
    assert grade(GradeInput(turns=_turns(texts), context=unknown)).verdict == "met"


def test_repeat_ask_reads_every_item_of_a_listed_request() -> None:
    """A request that lists several details is a repeat ask when any listed detail is on
    file, not only the first; reading a detail back with its value is a check, not an ask."""
    grade = REGISTRY["resolve.no_repeat_asks"]
    on_file = {"customer_name": "Ruth", "claim": "CL-5521, storm damage to the fence"}
    listed = "Could I take your full postcode, your phone and then the claim number please?"
    read_back = "Can you confirm the payee name, the amount sent, and the claim number ending 5521?"
    for text, verdict in [(listed, "violated"), (read_back, "met")]:
        turns = _turns(["The fence claim still hasn't paid out.", text])
        assert grade(GradeInput(turns=turns, context=on_file)).verdict == verdict


@pytest.mark.parametrize(
    ("texts", "key", "slip", "plain"),
    [
        # the case file shows the charge was the company's error, though the customer
        # never says so
        (
            ["Why is there a delivery fee on my statement?", "Sorry, I've refunded it now."],
            "charge",
            "delivery fee added in error at checkout",
            "delivery fee for the express option",
        ),
        # a case note in the clipped register of notes ("visit missed by our engineer")
        (
            ["What's happening with my boiler repair?", "Let me check that for you."],
            "job",
            "repair visit cancelled by our engineer on Monday",
            "repair visit booked for Monday 8-12",
        ),
    ],
    ids=["error-in-the-record", "terse-case-note"],
)
def test_apology_due_when_the_case_file_records_the_company_slip(
    texts: list[str], key: str, slip: str, plain: str
) -> None:
    """A calm question owes an apology when the case file records the company's slip; the
    same question beside a plain note does not."""
    grade = REGISTRY["resolve.apology_formula"]
    slipped = {"customer_name": "Ruth", key: slip}
    booked = {"customer_name": "Ruth", key: plain}
    assert grade(GradeInput(turns=_turns(texts), context=slipped)).verdict != "na"
    assert grade(GradeInput(turns=_turns(texts), context=booked)).verdict == "na"


@pytest.mark.parametrize(
    "rule",
    [
        "exchanges accepted up to 45 days for unopened items",
        "plan: Fibre 500, out of contract since March",
        "billing: front-line agents cannot write off arrears; refer to collections",
    ],
    ids=["window", "contract-status", "staff-limit"],
)
def test_no_apology_due_for_a_rule_the_case_file_states(rule: str) -> None:
    """A case file that states a term or a staff limit records no slip: a calm question
    beside it owes no apology."""
    grade = REGISTRY["resolve.apology_formula"]
    texts = ["Can you tell me what my options are here?", "Of course, let me look."]
    ctx = {"customer_name": "Ruth", "policy": rule}
    assert grade(GradeInput(turns=_turns(texts), context=ctx)).verdict == "na"


@pytest.mark.parametrize(
    "last",
    [
        "Typical. Bye.",
        "Oh great. Thanks a lot for nothing.",
        "Ok. Thanks anyway.",
        "Right, I'll find another way then.",
    ],
)
def test_a_bitter_sign_off_is_no_resolution(last: str) -> None:
    """A customer who signs off in scorn or resignation after the agent's plan gave up on
    it: nothing was agreed, so the resolution steps do not apply; a grudging "Fine." still
    accepts."""
    grade = REGISTRY["resolve.confirm_satisfaction"]
    texts = [
        "My heating's been off since Monday and I've got a baby at home.",
        "I've booked an engineer for next Tuesday, between 8 and 12.",
    ]
    assert grade(GradeInput(turns=_turns([*texts, last]))).verdict == "na"
    assert grade(GradeInput(turns=_turns([*texts, "Fine."]))).verdict != "na"


def test_scorn_earlier_in_the_contact_is_not_walking_away() -> None:
    """A word of scorn mid-contact ("... Pathetic.") does not make the customer's later
    grudging "whatever" to the fix a give-up; the same word as the last one does."""
    texts = [
        "Wrong size again. Pathetic.",
        "Sorry, Darren. I've sent the right size by express, arriving Friday.",
    ]
    assert not GradeInput(turns=_turns([*texts, "whatever"])).walked_away
    assert GradeInput(turns=_turns([*texts, "Typical."])).walked_away


@pytest.mark.parametrize(
    "opening",
    [
        "Hello. My rent goes out on Friday and that payment has left me short.",
        "I honestly can't cope with this on top of everything.",
    ],
    ids=["stakes", "shaken"],
)
def test_distinguish_applies_to_a_shaken_customer_who_never_complains(opening: str) -> None:
    """A customer who is shaken or says what rides on it is owed the patience the
    guideline asks for, though no complaint word is used; a plain question is not."""
    grade = REGISTRY["abuse.distinguish"]
    reply = "Let's get this looked at together."
    assert grade(GradeInput(turns=_turns([opening, reply]))).verdict != "na"
    plain = ["Hi, could you check when my parcel is due?", reply]
    assert grade(GradeInput(turns=_turns(plain))).verdict == "na"


def test_manager_take_over_owes_an_apology_only_for_the_issue_underneath() -> None:
    """A manager taking over after a colleague ended an abusive call: the ending itself is
    not a slip owed an apology; a broken item reported alongside it is."""
    grade = REGISTRY["deesc.specific_apology"]
    ctx = {"customer_name": "Ruth", "agent_role": "manager"}
    reply = "I'm Dana, the team manager. Tom was right to end that call."
    ending_only = ["Your agent Tom hung up on me yesterday. I want him disciplined.", reply]
    with_issue = [
        "Your agent Tom hung up on me yesterday. And the lamp you sent arrived smashed.",
        reply,
    ]
    assert grade(GradeInput(turns=_turns(ending_only), context=ctx)).verdict == "na"
    assert grade(GradeInput(turns=_turns(with_issue), context=ctx)).verdict != "na"


def test_specific_apology_reads_the_sentence_beside_a_short_sorry() -> None:
    """A short "I'm sorry." next to a sentence owning the slip is specific; a "sorry" that
    only excuses a slip in the talk is no apology for the problem."""
    grade = REGISTRY["deesc.specific_apology"]
    beside = "That booking mix-up was our mistake. I'm sorry. I've moved you to Friday."
    talk = "Right, sorry. I've moved you to Friday."
    opening = "You cancelled my booking without telling me."
    assert grade(GradeInput(turns=_turns([opening, beside]), context=CTX)).verdict == "met"
    assert grade(GradeInput(turns=_turns([opening, talk]), context=CTX)).verdict == "missed"


def test_pickle_an_extra_in_the_reply_that_gives_way_is_no_pickle() -> None:
    asked = "My router died and the engineer never came. I want the £49 call-out fee back."
    refused = "I'm afraid the call-out fee can't be refunded."
    pushed = "Then I'm leaving for another provider."
    cave = "OK, as a one-off I'll refund the £49, and I've also added a free month of broadband."
    held = (
        "I've booked the engineer for Friday 8-12, and I've also added a free month for the bother."
    )
    done = "Fine, thanks, that is all."
    pickle = REGISTRY["defuse.pickle"]
    caved = pickle(GradeInput(turns=_turns([asked, refused, pushed, cave, done]), context=CTX))
    kept = pickle(GradeInput(turns=_turns([asked, refused, pushed, held, done]), context=CTX))
    assert caved.verdict == "missed", caved.rationale
    assert kept.verdict == "met", kept.rationale


def test_pickle_reads_an_extra_by_how_it_is_put_on_top() -> None:
    """An extra framed as amends up front, one added "too", or a step the agent takes on
    personally beyond the fix is a pickle; the same step promised only for when the plan
    slips is the fallback, not an extra."""
    asked = "The dryer you sent has a dented door. I want it swapped."
    fix = "I'm sorry. A new dryer goes out on Tuesday, and the driver takes the dented one."
    ok = "Okay, Tuesday is fine."
    pickle = REGISTRY["defuse.pickle"]

    def verdict(extra: str) -> str:
        closing = f"Booked for Tuesday. {extra} Does that work for you?"
        turns = _turns([asked, fix, ok, closing, "Yes, thanks."])
        return pickle(GradeInput(turns=turns, context=CTX)).verdict

    assert verdict("For all the bother, I'll fit the new one for you at the door.") == "met"
    assert verdict("The delivery charge is waived too.") == "met"
    assert verdict("I'll chase the depot myself on Monday so it goes on the first van.") == "met"
    assert verdict("If it hasn't come by Tuesday night, I'll chase the depot myself.") == "missed"


def test_pickle_reads_the_clause_that_holds_the_extra() -> None:
    """A fee waived that nobody had raised is an extra; one the customer disputed, or one
    only mentioned beside the answer, is not. The clause of an extra decides whether it is
    the request granted, and a "no" in the clause before a "but" does not cancel it."""
    asked = "The heater you fitted leaks. I want it replaced, and my money back for the call."
    ok = "Fine, that works."
    pickle = REGISTRY["defuse.pickle"]

    def verdict(reply: str, customer: str = asked) -> str:
        turns = _turns([customer, reply, ok, "Booked. Does that work for you?", "Yes, thanks."])
        return pickle(GradeInput(turns=turns, context=CTX)).verdict

    base = "A new heater goes in on Friday and I've refunded the £60 call-out."
    assert verdict(base) == "missed"
    also = " I've also waived the £20 parking fee since none of this was on you."
    assert verdict(base + also) == "met"
    assert verdict(base + " I've waived the £20 parking fee since none of it was on you.") == "met"
    disputed = asked + " And why was there a £20 parking fee?"
    assert verdict(base + " I've waived the £20 parking fee.", disputed) == "missed"
    assert verdict(base + " The refund comes minus a £5 admin fee.") == "missed"
    assert verdict(base + " I could waive the £20 parking fee or send a voucher.") == "missed"
    mixed = "The £60 goes back to your card today, and I've added a £10 credit for the trouble."
    assert verdict(mixed) == "met"
    no_but = "I can't refund the call-out, but I can add a year's free servicing as a thank-you."
    assert verdict(no_but) == "met"
