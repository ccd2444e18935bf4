# Django date format syntax (https://docs.djangoproject.com/en/5.2/ref/templates/builtins/#date).
# One date format: the long and the short one are the same, so lists and detail pages agree.
DATE_FORMAT = "Y年n月j日"  # 2019年11月16日
SHORT_DATE_FORMAT = DATE_FORMAT
TIME_FORMAT = "H:i"  # 14:30
DATETIME_FORMAT = "Y年n月j日 H:i"  # 2019年11月16日 14:30
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
YEAR_MONTH_FORMAT = "Y年n月"  # 2019年11月
MONTH_DAY_FORMAT = "n月j日"  # 11月16日
FIRST_DAY_OF_WEEK = 1  # 星期一

# Python strptime syntax. ISO first: it is what date and datetime-local inputs send (Django's own
# zh_Hans list starts with 2019/11/16, which <input type=date> rejects: the field showed empty).
DATE_INPUT_FORMATS = [
    "%Y-%m-%d",  # 2019-11-16
    "%Y/%m/%d",  # 2019/11/16
    "%Y年%m月%d日",  # 2019年11月16日 (as shown)
]
TIME_INPUT_FORMATS = ["%H:%M:%S", "%H:%M:%S.%f", "%H:%M"]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%dT%H:%M:%S",  # 2019-11-16T14:30:59 (datetime-local)
    "%Y-%m-%dT%H:%M",  # 2019-11-16T14:30
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y年%m月%d日 %H:%M",  # 2019年11月16日 14:30 (as shown)
]

# Chinese readers group money in threes with a comma, as the reports' text already does
# (Django's zh_Hans default is no separator at all: 27130141.25).
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3  # 27,130,141.25
