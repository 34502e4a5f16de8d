"""warehouse/schema.go of hauser 1.5.1: the export's columns (BaseExportFields, and MobileFields
with IncludeMobileAppsFields) as MakeSchema lists them, and the fields hauser asks FullStory for.

A field is (DB name, FullStory field name, whether it is a time.Time); for a new schema both
names are the struct field's name."""

_BASE_EXPORT_FIELDS = (
    "IndvId UserId SessionId PageId UserCreated* UserAppKey UserDisplayName UserEmail "
    "EventStart* EventType EventSubType EventCustomName EventTargetText EventTargetSelector "
    "EventPageOffset EventSessionOffset EventModFrustrated EventModDead EventModError "
    "EventModSuspicious EventVarErrorKind EventVarFields EventWebSourceFileUrl "
    "EventFirstInputDelay EventCumulativeLayoutShift SessionStart* PageName PageStart* "
    "PageDuration PageActiveDuration PageUrl PageRefererUrl PageIp PageLatLong PageUserAgent "
    "PageBrowser PageBrowserVersion PageDevice PagePlatform PageOperatingSystem PageScreenWidth "
    "PageScreenHeight PageViewportWidth PageViewportHeight PageNumEvents PageNumDerivedEvents "
    "PageNumInfos PageNumWarnings PageNumErrors PageClusterId PageMaxScrollDepthPercent "
    "LoadDomContentTime LoadEventTime LoadFirstPaintTime LoadLargestPaintTime ReqUrl ReqMethod "
    "ReqStatus CustomVars"
).split()
_MOBILE_FIELDS = ("AppName AppPackageName AppDeviceModel AppDeviceVendor AppVersion "
                  "AppOsVersion AppViewName EventMobileSourceFile").split()
# The custom variables FullStory exports into the one CustomVars column.
WILDCARD_FIELDS = ("user_*", "evt_*", "page_*")


def make_schema(include_mobile_apps_fields):
    """NewHauserService's schema: MakeSchema(BaseExportFields{}[, MobileFields{}])."""
    names = _BASE_EXPORT_FIELDS + (_MOBILE_FIELDS if include_mobile_apps_fields else [])
    return [(name.rstrip("*"), name.rstrip("*"), name.endswith("*")) for name in names]


def full_story_fields(schema):
    """Schema.GetFullStoryFields: the fields of the export request, CustomVars as wildcards."""
    fields = []
    for field in schema:
        full_story_name = field[1]
        if full_story_name == "CustomVars":
            fields.extend(WILDCARD_FIELDS)
        elif full_story_name:
            fields.append(full_story_name)
    return fields
