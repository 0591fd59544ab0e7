"""The field tables of clauses 6.2.6, 6.3.4, 6.4.6, 6.5.4 and Annex B as data (EMAP-B-01).

Each structure is a tuple of rows ``(member, type, req)`` or ``(member, type, req, extra)``:

- ``type`` is a data type of Table B-3, an enumeration of Table B-12, or a structure name; ``[T]`` is an array.
- ``req`` is ``"req"``, ``"opt"`` or ``"cond"``.
- ``extra`` holds the only code-less value rules B.6 rule 5 puts into the schema, as JSON Schema keywords, plus
  ``EMPTY_OK`` for arrays whose Constraint says "may be empty".

Message bodies are structures named by their message name (Table B-1). The schema (schema.py) and the
normalisation of B.6 rule 2 (validate.py) are both derived from these tables.
"""

from __future__ import annotations

EMPTY_OK = {"minItems": 0}

#: Table B-3 — Data types (integer range of xs:unsignedInt). The custom formats name each textual type for the
#: format checker (a real date for dateTime) and for generators (hypothesis-jsonschema ``custom_formats``).
DATETIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$"
DURATION_PATTERN = r"^P(\d+W|(?=\d|T\d)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?)$"
X_TOKEN_PATTERN = r"^x-\S.*$"

PRIMITIVES: dict[str, dict] = {
    "ID": {"type": "string", "minLength": 1},
    "string": {"type": "string"},
    "boolean": {"type": "boolean"},
    "integer": {"type": "integer", "minimum": 0, "maximum": 4294967295},
    "number": {"type": "number"},
    "dateTime": {"type": "string", "pattern": DATETIME_PATTERN, "format": "emap-date-time"},
    "duration": {"type": "string", "pattern": DURATION_PATTERN, "format": "emap-duration"},
    "responseCode": {"type": "string", "pattern": "^[0-9]{3}$"},
    "URI": {"type": "string", "format": "emap-uri"},
}

#: Table B-12 — Enumerations: name -> (closed?, values).
ENUMERATIONS: dict[str, tuple[bool, tuple[str, ...]]] = {
    "eventStatus": (True, ("none", "far", "near", "active", "completed", "cancelled")),
    "emapResponseRequired": (True, ("always", "never")),
    "signalName": (False, ("SIMPLE", "ELECTRICITY_PRICE", "ENERGY_PRICE", "DEMAND_CHARGE", "BID_PRICE",
                           "BID_LOAD", "BID_ENERGY", "CHARGE_STATE", "LOAD_DISPATCH", "LOAD_CONTROL")),
    "signalType": (True, ("delta", "level", "multiplier", "price", "priceMultiplier", "priceRelative", "setpoint",
                          "x-loadControlCapacity", "x-loadControlLevelOffset", "x-loadControlPercentOffset",
                          "x-loadControlSetpoint")),
    "optType": (True, ("optIn", "optOut")),
    "optReason": (False, ("economic", "emergency", "mustRun", "notParticipating", "outageRunStatus",
                          "overrideStatus", "participating", "x-schedule")),
    "reportName": (False, ("METADATA_HISTORY_USAGE", "HISTORY_USAGE", "METADATA_HISTORY_GREENBUTTON",
                           "HISTORY_GREENBUTTON", "METADATA_TELEMETRY_USAGE", "TELEMETRY_USAGE",
                           "METADATA_TELEMETRY_STATUS", "TELEMETRY_STATUS")),
    "reportType": (False, ("reading", "usage", "demand", "setPoint", "deltaUsage", "deltaSetPoint", "deltaDemand",
                           "baseline", "deviation", "avgUsage", "avgDemand", "operatingState",
                           "upRegulationCapacityAvailable", "downRegulationCapacityAvailable",
                           "regulationSetpoint", "storedEnergy", "targetEnergyStorage", "availableEnergyStorage",
                           "price", "level", "powerFactor", "percentUsage", "percentDemand", "x-resourceStatus")),
    "readingType": (False, ("Direct Read", "Net", "Allocated", "Estimated", "Summed", "Derived", "Mean", "Peak",
                            "Hybrid", "Contract", "Projected", "x-RMS", "x-notApplicable")),
    "siScaleCode": (True, ("p", "n", "micro", "m", "c", "d", "k", "M", "G", "T", "none")),
    "itemBaseType": (True, ("voltage", "current", "energyApparent", "energyReactive", "energyReal",
                            "powerApparent", "powerReactive", "powerReal", "currency", "currencyPerKWh",
                            "currencyPerKW", "currencyPerThm", "frequency", "Therm", "temperature", "pulseCount",
                            "customUnit")),
    "emapDataQuality": (False, (
        "No Quality - No Value", "No New Value - Previous Value Used", "Quality Bad - Non Specific",
        "Quality Bad - Configuration Error", "Quality Bad - Not Connected", "Quality Bad - Device Failure",
        "Quality Bad - Sensor Failure", "Quality Bad - Last Known Value", "Quality Bad - Comm Failure",
        "Quality Bad - Out of Service", "Quality Uncertain - Non Specific", "Quality Uncertain - Last Usable Value",
        "Quality Uncertain - Sensor Not Accurate", "Quality Uncertain - EU Units Exceeded",
        "Quality Uncertain - Sub Normal", "Quality Good - Non Specific", "Quality Good - Local Override",
        "Quality Limit - Field/Not", "Quality Limit - Field/Low", "Quality Limit - Field/High",
        "Quality Limit - Field/Constant")),
    "emapServiceName": (True, ("EiEvent", "EiOpt", "EiReport", "EiRegisterParty", "EmapPoll")),
}

#: Table B-11 — itemBase kinds: type -> (itemDescription or None for any, itemUnits values / pattern).
ISO4217 = r"^[A-Z]{3}$"
ITEM_BASE_KINDS: dict[str, tuple[str | None, tuple[str, ...] | str | None]] = {
    "voltage": ("Voltage", ("V",)),
    "current": ("Current", ("A",)),
    "energyApparent": ("ApparentEnergy", ("VAh",)),
    "energyReactive": ("ReactiveEnergy", ("VARh",)),
    "energyReal": ("RealEnergy", ("Wh",)),
    "powerApparent": ("ApparentPower", ("VA",)),
    "powerReactive": ("ReactivePower", ("VAR",)),
    "powerReal": ("RealPower", ("W", "J/s")),
    "currency": ("currency", ISO4217),
    "currencyPerKWh": ("currencyPerKWh", ISO4217),
    "currencyPerKW": ("currencyPerKW", ISO4217),
    "currencyPerThm": ("currencyPerThm", ISO4217),
    "frequency": ("Frequency", ("Hz",)),
    "Therm": ("Therm", ("thm",)),
    "temperature": ("temperature", ("celsius", "fahrenheit")),
    "pulseCount": ("pulse count", ("count",)),
    "customUnit": (None, None),
}
POWER_KINDS = ("powerApparent", "powerReactive", "powerReal")

#: Common structures (Annex B.4) and the structures of clauses 6.2.6 to 6.5.4.
STRUCTURES: dict[str, tuple[tuple, ...]] = {
    # Annex B.4
    "EiResponse": (("responseCode", "responseCode", "req"), ("responseDescription", "string", "opt"),
                   ("requestID", "string", "req")),
    "EiTarget": (("venID", "[ID]", "opt"), ("resourceID", "[ID]", "opt"), ("groupID", "[ID]", "opt"),
                 ("groupName", "[string]", "opt"), ("partyID", "[ID]", "opt"),
                 ("endDeviceAsset", "[EndDeviceAsset]", "opt")),
    "EndDeviceAsset": (("mrid", "string", "req"),),
    "QualifiedEventID": (("eventID", "ID", "req"), ("modificationNumber", "integer", "req")),
    "PayloadFloat": (("value", "number", "req"),),
    "ItemBase": (("type", "itemBaseType", "req"), ("itemDescription", "string", "req"),
                 ("itemUnits", "string", "req"), ("siScaleCode", "siScaleCode", "cond"),
                 ("powerAttributes", "PowerAttributes", "cond"), ("pulseFactor", "number", "cond")),
    "PowerAttributes": (("hertz", "number", "req"), ("voltage", "number", "req"), ("ac", "boolean", "req")),
    # 6.2.6
    "EmapProfiles": (("emapProfile", "[EmapProfile]", "req"),),
    "EmapProfile": (("emapProfileName", "string", "req"), ("emapTransports", "EmapTransports", "req")),
    "EmapTransports": (("emapTransport", "[EmapTransport]", "req"),),
    "EmapTransport": (("emapTransportName", "string", "req"),),
    "EmapServiceSpecificInfo": (("emapService", "[EmapService]", "req"),),
    "EmapService": (("emapServiceName", "emapServiceName", "req"), ("emapInfo", "[EmapInfo]", "req")),
    "EmapInfo": (("emapKey", "string", "req"), ("emapValue", "string", "req")),
    # 6.3.4
    "EiRequestEvent": (("requestID", "ID", "req"), ("venID", "ID", "req"),
                       ("replyLimit", "integer", "opt", {"minimum": 1})),
    "EmapEvent": (("eiEvent", "EiEvent", "req"), ("emapResponseRequired", "emapResponseRequired", "req"),
                  ("emapOptChangeAllowed", "boolean", "opt"), ("emapOptChangeDeadline", "dateTime", "opt")),
    "EiEvent": (("eventDescriptor", "EventDescriptor", "req"), ("eiActivePeriod", "EiActivePeriod", "req"),
                ("eiEventSignals", "EiEventSignals", "req"), ("eiTarget", "EiTarget", "req")),
    "EventDescriptor": (("eventID", "ID", "req"), ("modificationNumber", "integer", "req"),
                        ("modificationDateTime", "dateTime", "opt"), ("modificationReason", "string", "opt"),
                        ("priority", "integer", "opt"), ("eiMarketContext", "EiMarketContext", "req"),
                        ("createdDateTime", "dateTime", "req"), ("eventStatus", "eventStatus", "req"),
                        ("testEvent", "string", "opt"), ("vtnComment", "string", "opt")),
    "EiMarketContext": (("marketContext", "URI", "req"),),
    "EiActivePeriod": (("properties", "ActivePeriodProperties", "req"),),
    "ActivePeriodProperties": (("dtstart", "dateTime", "req"), ("duration", "duration", "req"),
                               ("tolerance", "Tolerance", "opt"), ("x-eiNotification", "duration", "opt"),
                               ("x-eiRampUp", "duration", "opt"), ("x-eiRecovery", "duration", "opt")),
    "Tolerance": (("tolerate", "Tolerate", "req"),),
    "Tolerate": (("startafter", "duration", "opt"),),
    "EiEventSignals": (("eiEventSignal", "[EiEventSignal]", "req"), ("eiEventBaseline", "EiEventBaseline", "opt")),
    "EiEventSignal": (("intervals", "EventIntervals", "req"), ("eiTarget", "EiTarget", "opt"),
                      ("signalName", "signalName", "req"), ("signalType", "signalType", "req"),
                      ("signalID", "ID", "req"), ("itemBase", "ItemBase", "opt"),
                      ("currentValue", "CurrentValue", "opt")),
    "EventIntervals": (("interval", "[EventInterval]", "req"),),
    "EventInterval": (("duration", "duration", "req"), ("uid", "string", "req"),
                      ("signalPayload", "SignalPayload", "req")),
    "SignalPayload": (("payloadFloat", "PayloadFloat", "req"),),
    "CurrentValue": (("payloadFloat", "PayloadFloat", "req"),),
    "EiEventBaseline": (("dtstart", "dateTime", "req"), ("duration", "duration", "req"),
                        ("intervals", "EventIntervals", "req"), ("baselineID", "ID", "req"),
                        ("resourceID", "[ID]", "opt"), ("baselineName", "string", "req"),
                        ("itemBase", "ItemBase", "opt")),
    "EiCreatedEvent": (("eiResponse", "EiResponse", "req"), ("eventResponses", "EventResponses", "cond"),
                       ("venID", "ID", "req")),
    "EventResponses": (("eventResponse", "[EventResponse]", "req"),),
    "EventResponse": (("responseCode", "responseCode", "req"), ("responseDescription", "string", "opt"),
                      ("requestID", "ID", "req"), ("qualifiedEventID", "QualifiedEventID", "req"),
                      ("optType", "optType", "req")),
    # 6.4.6
    "MetadataReport": (("duration", "duration", "req"),
                       ("emapReportDescription", "[EmapReportDescription]", "req"),
                       ("reportRequestID", "string", "req", {"const": "0"}), ("reportSpecifierID", "ID", "req"),
                       ("reportName", "reportName", "req"), ("createdDateTime", "dateTime", "req")),
    "EmapReportDescription": (("rID", "ID", "req"), ("reportSubject", "EiTarget", "opt"),
                              ("reportDataSource", "EiTarget", "opt"), ("reportType", "reportType", "req"),
                              ("itemBase", "ItemBase", "opt"), ("readingType", "readingType", "req"),
                              ("marketContext", "URI", "opt"), ("emapSamplingRate", "EmapSamplingRate", "cond")),
    "EmapSamplingRate": (("emapMinPeriod", "duration", "req"), ("emapMaxPeriod", "duration", "req"),
                         ("emapOnChange", "boolean", "req")),
    "EmapReportRequest": (("reportRequestID", "ID", "req"), ("reportSpecifier", "ReportSpecifier", "req")),
    "ReportSpecifier": (("reportSpecifierID", "ID", "req"), ("granularity", "duration", "req"),
                        ("reportBackDuration", "duration", "req"), ("reportInterval", "ReportWindow", "opt"),
                        ("specifierPayload", "[SpecifierPayload]", "cond")),
    "ReportWindow": (("properties", "WindowProperties", "req"),),
    "WindowProperties": (("dtstart", "dateTime", "req"), ("duration", "duration", "req")),
    "SpecifierPayload": (("rID", "ID", "req"), ("readingType", "readingType", "req")),
    "EmapPendingReports": (("reportRequestID", "[ID]", "req", EMPTY_OK),),
    "DataReport": (("eiReportID", "ID", "opt"), ("dtstart", "dateTime", "req"), ("duration", "duration", "opt"),
                   ("intervals", "DataIntervals", "req"), ("reportRequestID", "ID", "req"),
                   ("reportSpecifierID", "ID", "req"), ("reportName", "reportName", "req"),
                   ("createdDateTime", "dateTime", "req")),
    "DataIntervals": (("interval", "[DataInterval]", "req"),),
    "DataInterval": (("dtstart", "dateTime", "req"), ("duration", "duration", "req"), ("uid", "string", "opt"),
                     ("emapReportPayload", "[EmapReportPayload]", "cond"),
                     ("emapGBPayload", "EmapGBPayload", "cond")),
    "EmapReportPayload": (("rID", "ID", "req"), ("confidence", "integer", "opt", {"maximum": 100}),
                          ("accuracy", "number", "opt"), ("payloadFloat", "PayloadFloat", "cond"),
                          ("emapPayloadResourceStatus", "EmapPayloadResourceStatus", "cond"),
                          ("emapDataQuality", "emapDataQuality", "opt")),
    "EmapPayloadResourceStatus": (("emapOnline", "boolean", "req"), ("emapManualOverride", "boolean", "req"),
                                  ("emapLoadControlState", "EmapLoadControlState", "opt")),
    "EmapLoadControlState": (("emapCapacity", "LoadControlValue", "opt"),
                             ("emapLevelOffset", "LoadControlValue", "opt"),
                             ("emapPercentOffset", "LoadControlValue", "opt"),
                             ("emapSetPoint", "LoadControlValue", "opt")),
    "LoadControlValue": (("emapMin", "number", "opt"), ("emapMax", "number", "opt"), ("emapCurrent", "number", "req"),
                         ("emapNormal", "number", "opt")),
    "EmapGBPayload": (("feed", "string", "req"),),
    # 6.5.4
    "Vavailability": (("components", "VavailabilityComponents", "req"),),
    "VavailabilityComponents": (("available", "[Available]", "req"),),
    "Available": (("properties", "WindowProperties", "req"),),
    # Message bodies (Table B-1)
    "emapQueryRegistration": (("requestID", "ID", "req"), ("venID", "ID", "opt")),
    "emapCreatedPartyRegistration": (
        ("eiResponse", "EiResponse", "req"), ("registrationID", "ID", "cond"), ("venID", "ID", "cond"),
        ("vtnID", "ID", "req"), ("emapProfiles", "EmapProfiles", "req"),
        ("emapRequestedPollFreq", "duration", "cond", {"format": "emap-poll-freq"}),
        ("emapServiceSpecificInfo", "EmapServiceSpecificInfo", "opt"), ("emapOptChange", "boolean", "cond")),
    "emapCreatePartyRegistration": (
        ("requestID", "ID", "req"), ("registrationID", "ID", "opt"), ("venID", "ID", "opt"),
        ("emapProfileName", "string", "req"), ("emapTransportName", "string", "req"),
        ("emapTransportAddress", "URI", "cond"), ("emapReportOnly", "boolean", "req"),
        ("emapSignature", "boolean", "req"), ("emapVenName", "string", "opt"), ("emapPullModel", "boolean", "req"),
        ("emapOptChange", "boolean", "opt")),
    "emapCancelPartyRegistration": (("requestID", "ID", "req"), ("registrationID", "ID", "req"),
                                    ("venID", "ID", "req")),
    "emapCanceledPartyRegistration": (("eiResponse", "EiResponse", "req"), ("registrationID", "ID", "req"),
                                      ("venID", "ID", "req")),
    "emapRequestReregistration": (("venID", "ID", "req"),),
    "emapResponse": (("eiResponse", "EiResponse", "req"), ("venID", "ID", "cond")),
    "emapRequestEvent": (("eiRequestEvent", "EiRequestEvent", "req"),),
    "emapPoll": (("venID", "ID", "req"),),
    "emapDistributeEvent": (("eiResponse", "EiResponse", "cond"), ("requestID", "ID", "req"),
                            ("vtnID", "ID", "req"), ("emapEvent", "[EmapEvent]", "req", EMPTY_OK)),
    "emapCreatedEvent": (("eiCreatedEvent", "EiCreatedEvent", "req"),),
    "emapRegisterReport": (("requestID", "ID", "req"), ("emapReport", "[MetadataReport]", "req", EMPTY_OK),
                           ("venID", "ID", "req"), ("reportRequestID", "ID", "cond")),
    "emapRegisteredReport": (("eiResponse", "EiResponse", "req"), ("venID", "ID", "req")),
    "emapCreateReport": (("requestID", "ID", "req"), ("emapReportRequest", "[EmapReportRequest]", "req"),
                         ("venID", "ID", "req")),
    "emapCreatedReport": (("eiResponse", "EiResponse", "req"), ("emapPendingReports", "EmapPendingReports", "req"),
                          ("venID", "ID", "req")),
    "emapUpdateReport": (("requestID", "ID", "req"), ("emapReport", "[DataReport]", "req"), ("venID", "ID", "req")),
    "emapUpdatedReport": (("eiResponse", "EiResponse", "req"), ("venID", "ID", "req")),
    "emapCancelReport": (("requestID", "ID", "req"), ("reportRequestID", "[ID]", "req"),
                         ("reportToFollow", "boolean", "req"), ("venID", "ID", "req")),
    "emapCanceledReport": (("eiResponse", "EiResponse", "req"), ("emapPendingReports", "EmapPendingReports", "req"),
                           ("venID", "ID", "req")),
    "emapCreateOpt": (("optID", "ID", "req"), ("optType", "optType", "req"), ("optReason", "optReason", "req"),
                      ("marketContext", "URI", "cond"), ("venID", "ID", "req"),
                      ("vavailability", "Vavailability", "cond"), ("createdDateTime", "dateTime", "req"),
                      ("requestID", "ID", "req"), ("qualifiedEventID", "QualifiedEventID", "cond"),
                      ("eiTarget", "EiTarget", "req"), ("emapDeviceClass", "EiTarget", "opt"),
                      ("emapOptChange", "boolean", "opt")),
    "emapCreatedOpt": (("eiResponse", "EiResponse", "req"), ("optID", "ID", "req")),
    "emapCancelOpt": (("requestID", "ID", "req"), ("optID", "ID", "req"), ("venID", "ID", "req")),
    "emapCanceledOpt": (("eiResponse", "EiResponse", "req"), ("optID", "ID", "req")),
}


def rows(structure: str) -> tuple[tuple[str, str, str, dict], ...]:
    """The rows of a structure, each padded to ``(member, type, req, extra)``."""
    return tuple((*row, {}) if len(row) == 3 else row for row in STRUCTURES[structure])


def item_type(type_name: str) -> tuple[str, bool]:
    """``("T", True)`` for ``"[T]"``, ``("T", False)`` otherwise."""
    if type_name.startswith("["):
        return type_name[1:-1], True
    return type_name, False
