# Django date format syntax (https://docs.djangoproject.com/en/5.2/ref/templates/builtins/#date).
# One date format: the long and the short one are the same, so lists and detail pages agree.
DATE_FORMAT = "j M Y"  # 16 Nov 2019
SHORT_DATE_FORMAT = DATE_FORMAT
TIME_FORMAT = "H:i"  # 14:30
DATETIME_FORMAT = "j M Y H:i"  # 16 Nov 2019 14:30
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
YEAR_MONTH_FORMAT = "M Y"  # Nov 2019
MONTH_DAY_FORMAT = "j M"  # 16 Nov
FIRST_DAY_OF_WEEK = 1  # Monday, as in China

# Python strptime syntax. ISO first: it is what date and datetime-local inputs send.
DATE_INPUT_FORMATS = [
    "%Y-%m-%d",  # 2019-11-16
    "%d %b %Y",  # 16 Nov 2019 (as shown)
    "%Y/%m/%d",  # 2019/11/16
]
TIME_INPUT_FORMATS = ["%H:%M:%S", "%H:%M:%S.%f", "%H:%M"]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%dT%H:%M:%S",  # 2019-11-16T14:30:59 (datetime-local)
    "%Y-%m-%dT%H:%M",  # 2019-11-16T14:30
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%d %b %Y %H:%M",  # 16 Nov 2019 14:30 (as shown)
]

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3  # 27,130,141.25
