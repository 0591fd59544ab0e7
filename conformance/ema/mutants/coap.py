"""Mutants of the sample EMA's CoAP side (clause 7.1): the front door every role serves through, and the
upper EMA's push delivery.

Each function patches one method or function of ``conformance.ema.frontdoor`` or ``conformance.ema.upper.push``;
it runs before the EMA starts.
"""

from __future__ import annotations

from conformance.ema.mutants.registry import mutant, replace, wrap

U = ("upper",)


def _answers(change) -> None:
    """Pass every front-door answer through ``change(request, response) -> response``."""
    from conformance.ema.frontdoor import FrontDoor

    def make(answer):
        async def answer_changed(self, request):
            return change(request, await answer(self, request))

        return answer_changed

    wrap(FrontDoor, "_answer", make)


def _before_answer(check) -> None:
    """Answer ``check(request)`` instead of the front door's own answer when it is not None."""
    from conformance.ema.frontdoor import FrontDoor

    def make(answer):
        async def answer_checked(self, request):
            early = check(request)
            return early if early is not None else await answer(self, request)

        return answer_checked

    wrap(FrontDoor, "_answer", make)


def _recoded(old, new):
    from aiocoap import Message

    return lambda request, response: Message(code=new, payload=b"bad request") if response.code == old \
        else response


@mutant("t-method-400", ["EMAP-7.1.4-01"], ["TC-T-7.1.4-01"], U,
        "a method other than POST gets 4.00 instead of 4.05")
def _method_400():
    from aiocoap import Code

    _answers(_recoded(Code.METHOD_NOT_ALLOWED, Code.BAD_REQUEST))


@mutant("t-content-format-400", ["EMAP-7.1.4-02"], ["TC-T-7.1.4-02"], U,
        "a missing or wrong Content-Format gets 4.00 instead of 4.15")
def _content_format_400():
    from aiocoap import Code

    _answers(_recoded(Code.UNSUPPORTED_CONTENT_FORMAT, Code.BAD_REQUEST))


@mutant("t-accept-ignored", ["EMAP-7.1.4-03"], ["TC-T-7.1.4-03"], U,
        "an Accept other than 50 is ignored instead of answered 4.06")
def _accept_ignored():
    from conformance.ema.frontdoor import FrontDoor

    def make(process_locked):
        async def process_ignoring_accept(self, route, resource, request):
            request.opt.accept = None
            return await process_locked(self, route, resource, request)

        return process_ignoring_accept

    wrap(FrontDoor, "_process_locked", make)


@mutant("t-reply-205", ["EMAP-7.1.4-04"], ["TC-T-7.1.4-04", "TC-T-7.1.1-01"], U,
        "message responses come as 2.05 Content instead of 2.04 Changed")
def _reply_205():
    from aiocoap import Code

    from conformance.ema import frontdoor

    def make(emap_reply):
        def reply_content(envelope):
            response = emap_reply(envelope)
            response.code = Code.CONTENT
            return response

        return reply_content

    wrap(frontdoor, "emap_reply", make)


@mutant("t-check-order", ["EMAP-7.1.4-05"], ["TC-T-7.1.4-05"], U,
        "Content-Format is checked before the method (4.15 where 4.05 is due)")
def _check_order():
    from aiocoap import Code, Message

    def check(request):
        if request.code != Code.POST and request.opt.content_format != 50:
            return Message(code=Code.UNSUPPORTED_CONTENT_FORMAT)
        return None

    _before_answer(check)


@mutant("t-bad-request-bare", ["EMAP-7.1.4-06"], ["TC-T-7.1.4-06"], U,
        "4.00 answers carry no diagnostic payload")
def _bad_request_bare():
    from aiocoap import Code

    from conformance.ema import frontdoor

    wrap(frontdoor, "diagnostic", lambda diagnostic: lambda code, text:
         diagnostic(code, "") if code == Code.BAD_REQUEST else diagnostic(code, text))


@mutant("t-no-repeat-cache", ["EMAP-7.1.5-07"], ["TC-T-7.1.5-06"], U,
        "a repeated message (same requestID and content) is processed again instead of answered as before")
def _no_repeat_cache():
    from conformance.ema.frontdoor import RepeatCache

    replace(RepeatCache, "lookup", lambda self, key, envelope: (False, None))


@mutant("t-413-without-size1", ["EMAP-7.1.5-10"], ["TC-T-7.1.5-10", "TC-T-7.1.1-06"], U,
        "4.13 answers carry no Size1")
def _413_without_size1():
    from aiocoap import Code, Message

    from conformance.ema.frontdoor import FrontDoor

    replace(FrontDoor, "_entity_too_large", lambda self: Message(code=Code.REQUEST_ENTITY_TOO_LARGE))


@mutant("t-small-payload-limit", ["EMAP-7.1.1-05"], ["TC-T-7.1.1-06"], U,
        "payloads over 32 KiB are refused although 64 KiB is declared")
def _small_payload_limit():
    from aiocoap import Code, Message

    from conformance.ema.frontdoor import FrontDoor

    def make(answer):
        async def answer_small(self, request):
            block1 = request.opt.block1
            end = (block1.start if block1 is not None else 0) + len(request.payload)
            if request.code == Code.POST and end > 32768:
                response = Message(code=Code.REQUEST_ENTITY_TOO_LARGE)
                response.opt.size1 = 32768
                return response
            return await answer(self, request)

        return answer_small

    wrap(FrontDoor, "_answer", make)


@mutant("t-wrong-resource-accepted", ["EMAP-7.1.3-05"], ["TC-T-7.1.3-04"], U,
        "a message POSTed to a resource that does not accept it is processed instead of answered 459")
def _wrong_resource_accepted():
    from conformance.ema.frontdoor import FrontDoor

    replace(FrontDoor, "_dispatch", lambda self, route, resource, message, remote:
            route.role.handle(resource, message, remote))


@mutant("t-paths-case-insensitive", ["EMAP-7.1.3-03"], ["TC-T-7.1.3-02"], U,
        "resource names are matched without regard to case")
def _paths_case_insensitive():
    from conformance.ema.frontdoor import FrontDoor

    def make(find):
        def find_any_case(self, path):
            found = find(self, path)
            if found is not None or not path:
                return found
            for route in self.routes:
                for name in route.resources:
                    if path[:-1] == route.base and path[-1].lower() == name.lower():
                        return route, name
            return None

        return find_any_case

    wrap(FrontDoor, "_find", make)


@mutant("t-query-refused", ["EMAP-7.1.3-04"], ["TC-T-7.1.3-03"], U,
        "a request with Uri-Query options gets 4.00 instead of being served")
def _query_refused():
    from aiocoap import Code, Message

    _before_answer(lambda request: Message(code=Code.BAD_REQUEST, payload=b"no query allowed")
                   if request.opt.uri_query else None)


@mutant("t-unlisted-coap-code", ["EMAP-7.1.6-01"], ["TC-T-7.1.6-01"], U,
        "an unknown path gets 4.03 Forbidden, a code outside Table 7.1-3")
def _unlisted_coap_code():
    from aiocoap import Code

    _answers(_recoded(Code.NOT_FOUND, Code.FORBIDDEN))


@mutant("t-application-error-as-coap", ["EMAP-7.1.6-02"], ["TC-T-7.1.6-02"], U,
        "an application error (responseCode other than 200) is answered with CoAP 4.00")
def _application_error_as_coap():
    from aiocoap import Code

    from conformance.ema import frontdoor
    from conformance.messages import validate

    def make(emap_reply):
        def reply_or_coap_error(envelope):
            if envelope is not None and validate(envelope, posted=False).response_code not in (None, "200"):
                return frontdoor.diagnostic(Code.BAD_REQUEST, "request refused")
            return emap_reply(envelope)

        return reply_or_coap_error

    wrap(frontdoor, "emap_reply", make)


@mutant("t-push-resend-after-error", ["EMAP-7.1.5-15"], ["TC-T-7.1.5-08"], U,
        "U re-sends a pushed request identically after a 4.xx answer")
def _push_resend_after_error():
    from conformance.ema.upper.push import PushDelivery

    def make(exchange):
        async def exchange_retrying(self, base, item):
            outcome, value = await exchange(self, base, item)
            return ("failed", None) if (outcome, value) == ("done", None) else (outcome, value)

        return exchange_retrying

    wrap(PushDelivery, "_exchange", make)


@mutant("t-push-ignores-max-age", ["EMAP-7.1.5-08"], ["TC-T-7.1.5-07"], U,
        "U re-sends after a 5.03 at once, ignoring its Max-Age")
def _push_ignores_max_age():
    from conformance.ema.upper.push import PushDelivery

    def make(exchange):
        async def exchange_impatient(self, base, item):
            outcome, value = await exchange(self, base, item)
            return (outcome, 0.05) if outcome == "unavailable" else (outcome, value)

        return exchange_impatient

    wrap(PushDelivery, "_exchange", make)


@mutant("t-push-no-backoff", ["EMAP-7.1.5-05"], ["TC-T-7.1.5-03"], U,
        "U re-sends a failed push at once instead of after T_BACKOFF")
def _push_no_backoff():
    import copy

    from conformance.ema.upper.push import PushDelivery

    def make(init):
        def init_impatient(self, link, config, delivered):
            impatient = copy.copy(config)
            impatient.backoff_initial = impatient.backoff_cap = 0.05
            init(self, link, impatient, delivered)

        return init_impatient

    wrap(PushDelivery, "__init__", make)
