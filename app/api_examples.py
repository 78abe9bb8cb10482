"""Examples of the /api answers for the OpenAPI documentation (/docs): real answers, lists cut short.

tests/test_api_docs.py checks that each one still validates against its response model and
agrees with the live answer.
"""

DISTRICTS = [
    {
        "id": "dongcheng",
        "iri": "https://bjrd-kg.example.org/id/district/dongcheng",
        "label": {"zh": "东城区", "en": "Dongcheng District"},
        "code": "110101",
    },
    {
        "id": "xicheng",
        "iri": "https://bjrd-kg.example.org/id/district/xicheng",
        "label": {"zh": "西城区", "en": "Xicheng District"},
        "code": "110102",
    },
]

DISTRICT = {
    "id": "haidian",
    "iri": "https://bjrd-kg.example.org/id/district/haidian",
    "label": {"zh": "海淀区", "en": "Haidian District"},
    "code": "110108",
    "paragraph": "海淀区人大紧扣大局凝练监督议题。",
    "practices": [
        {
            "id": "haidian-expert-adviser-pool",
            "iri": "https://bjrd-kg.example.org/id/practice/haidian-expert-adviser-pool",
            "label": {
                "zh": "组建专家顾问库，服务预算审查、议案督办、备案审查等工作",
                "en": "Formed a pool of expert advisers covering finance and economics, law, urban "
                "construction, environmental protection and other fields, serving budget review, "
                "motion follow-up, recording and review and other work",
            },
            "quote": "组建由63名成员组成的专家顾问库,涵盖财经、法律、城建、环保等领域,服务预算审查、议案督办、备案审查等工作",
            "quote_start": 2130,
            "quote_end": 2183,
            "mechanisms": ["expert-advisers"],
            "themes": ["research-and-expertise"],
        },
        {
            "id": "haidian-bill-follow-up-mechanism",
            "iri": "https://bjrd-kg.example.org/id/practice/haidian-bill-follow-up-mechanism",
            "label": {
                "zh": "建立“议案督办一年、跟踪督办两年”的议案工作机制",
                "en": "Set up a motion work mechanism under which a motion is followed up for one year and "
                "then tracked for two more",
            },
            "quote": "建立“议案督办一年、跟踪督办两年”的议案工作机制",
            "quote_start": 2200,
            "quote_end": 2224,
            "mechanisms": ["bill-one-year-tracking-two-years"],
            "themes": ["suggestion-handling"],
        },
    ],
    "mechanisms": [
        {
            "id": "agencies-into-stations",
            "label": {"zh": "“检察官进家站”“委办局进家站”", "en": "Prosecutors and government bureaus visit stations"},
        },
        {
            "id": "bill-one-year-tracking-two-years",
            "label": {
                "zh": "“议案督办一年、跟踪督办两年”议案工作机制",
                "en": "“Motions followed up for one year, tracked for two more”",
            },
        },
        {"id": "bill-supervision", "label": {"zh": "议案督办", "en": "Following up deputies' motions"}},
    ],
    "themes": [
        {"id": "budget-oversight", "label": {"zh": "预算审查监督", "en": "Budget review and oversight"}},
        {"id": "deputy-work", "label": {"zh": "代表工作", "en": "Work with deputies"}},
    ],
    "facts": [
        {
            "id": "haidian-63-expert-advisers",
            "iri": "https://bjrd-kg.example.org/id/fact/haidian-63-expert-advisers",
            "label": {"zh": "专家顾问库成员", "en": "members of the expert adviser pool"},
            "value": 63,
            "min_value": None,
            "unit": "名",
            "unit_label": {"zh": "名", "en": "members"},
            "quote": "组建由63名成员组成的专家顾问库",
            "practice": "haidian-expert-adviser-pool",
        }
    ],
}

SIMILAR = [
    {
        "id": "shijingshan",
        "label": {"zh": "石景山区", "en": "Shijingshan District"},
        "jaccard_mechanisms": 0.30434782608695654,
        "jaccard_themes": 0.6666666666666666,
        "shared_mechanisms": [
            {"id": "bill-supervision", "label": {"zh": "议案督办", "en": "Following up deputies' motions"}},
            {
                "id": "bills-and-suggestions",
                "label": {"zh": "议案建议督办", "en": "Following up deputies' motions and suggestions"},
            },
        ],
    },
    {
        "id": "fengtai",
        "label": {"zh": "丰台区", "en": "Fengtai District"},
        "jaccard_mechanisms": 0.25,
        "jaccard_themes": 0.7,
        "shared_mechanisms": [
            {
                "id": "bills-and-suggestions",
                "label": {"zh": "议案建议督办", "en": "Following up deputies' motions and suggestions"},
            },
            {"id": "budget-oversight", "label": {"zh": "预算审查监督", "en": "Budget review and oversight"}},
        ],
    },
]

MECHANISMS = [
    {
        "id": "monthly-station-visit",
        "iri": "https://bjrd-kg.example.org/id/mechanism/monthly-station-visit",
        "label": {"zh": "“月进站”", "en": "Monthly station visit (“月进站”)"},
        "districts": ["dongcheng", "xicheng", "fengtai", "fangshan"],
        "count": 4,
        "broader": ["deputy-stations"],
        "narrower": [],
        "top": False,
        "kind": "named",
    },
    {
        "id": "online-station",
        "iri": "https://bjrd-kg.example.org/id/mechanism/online-station",
        "label": {"zh": "“网上家站”", "en": "Online station"},
        "districts": ["chaoyang"],
        "count": 1,
        "broader": ["deputy-stations", "online-opinion"],
        "narrower": [],
        "top": False,
        "kind": "named",
    },
]

SHARED = [
    {
        "id": "supervision-forms",
        "iri": "https://bjrd-kg.example.org/id/mechanism/supervision-forms",
        "label": {"zh": "人大监督方式", "en": "Forms of congress supervision"},
        "districts": [
            "dongcheng",
            "xicheng",
            "chaoyang",
            "fengtai",
            "shijingshan",
            "haidian",
            "mentougou",
            "fangshan",
            "tongzhou",
            "shunyi",
            "changping",
            "daxing",
            "huairou",
            "pinggu",
            "miyun",
            "yanqing",
        ],
        "count": 16,
        "broader": [],
        "narrower": ["budget-oversight", "combined-supervision", "counterpart-supervision"],
        "top": True,
        "kind": "umbrella",
    },
    {
        "id": "deputy-stations",
        "iri": "https://bjrd-kg.example.org/id/mechanism/deputy-stations",
        "label": {"zh": "人大代表家站", "en": "Deputies' homes and liaison stations"},
        "districts": [
            "dongcheng",
            "xicheng",
            "chaoyang",
            "fengtai",
            "shijingshan",
            "haidian",
            "fangshan",
            "changping",
            "daxing",
            "huairou",
            "pinggu",
            "miyun",
        ],
        "count": 13,
        "broader": [],
        "narrower": ["agencies-into-stations", "deputies-listening-brand", "monthly-station-visit"],
        "top": True,
        "kind": "named",
    },
]

MECHANISM = {
    "id": "monthly-station-visit",
    "iri": "https://bjrd-kg.example.org/id/mechanism/monthly-station-visit",
    "label": {"zh": "“月进站”", "en": "Monthly station visit (“月进站”)"},
    "definition": {
        "zh": "代表每月进家站接待群众、征求民意。",
        "en": "Every month deputies go to their station to meet the public and hear its views.",
    },
    "broader": ["deputy-stations"],
    "narrower": [],
    "top": False,
    "kind": "named",
    "count": 4,
    "districts": [
        {
            "id": "dongcheng",
            "label": {"zh": "东城区", "en": "Dongcheng District"},
            "evidence": [
                "“月进站”中,代表带着议题征求民意,群众带着难题反映诉求,家站民意反馈窗、群众连心桥、制度宣传站功能充分体现",
                "围绕“决议”实施,上半年通过“月进站”活动组织市、区人大代表回家站充分汲取民意",
            ],
            "practices": ["dongcheng-monthly-station-visit", "dongcheng-resolution-station-visits"],
        },
        {
            "id": "xicheng",
            "label": {"zh": "西城区", "en": "Xicheng District"},
            "evidence": ["在“月进站”活动基础上"],
            "practices": ["xicheng-monthly-station-visit"],
        },
    ],
    "themes": [
        {"id": "deputy-work", "label": {"zh": "代表工作", "en": "Work with deputies"}},
        {"id": "public-opinion", "label": {"zh": "民意征集", "en": "Gathering public opinion"}},
        {"id": "station-building", "label": {"zh": "家站建设", "en": "Deputies' homes and stations"}},
    ],
}

THEME = {
    "id": "station-building",
    "iri": "https://bjrd-kg.example.org/id/theme/station-building",
    "label": {"zh": "家站建设", "en": "Deputies' homes and stations"},
    "definition": {
        "zh": "人大代表之家、代表联络站（家站）的建设与活动。",
        "en": "Building and running the deputies' homes and liaison stations (家站) where deputies meet the public.",
    },
    "broader": ["deputy-work", "whole-process-democracy"],
    "narrower": [],
    "top": False,
    "districts": [
        {"id": "dongcheng", "label": {"zh": "东城区", "en": "Dongcheng District"}},
        {"id": "xicheng", "label": {"zh": "西城区", "en": "Xicheng District"}},
        {"id": "chaoyang", "label": {"zh": "朝阳区", "en": "Chaoyang District"}},
    ],
    "mechanisms": [
        {
            "id": "agencies-into-stations",
            "label": {"zh": "“检察官进家站”“委办局进家站”", "en": "Prosecutors and government bureaus visit stations"},
        },
        {"id": "bill-supervision", "label": {"zh": "议案督办", "en": "Following up deputies' motions"}},
        {
            "id": "bills-and-suggestions",
            "label": {"zh": "议案建议督办", "en": "Following up deputies' motions and suggestions"},
        },
    ],
}

COMPARISON = {
    "districts": [
        {"id": "haidian", "label": {"zh": "海淀区", "en": "Haidian District"}},
        {"id": "chaoyang", "label": {"zh": "朝阳区", "en": "Chaoyang District"}},
    ],
    "shared_mechanisms": [
        {"id": "deputy-stations", "label": {"zh": "人大代表家站", "en": "Deputies' homes and liaison stations"}},
        {"id": "supervision-forms", "label": {"zh": "人大监督方式", "en": "Forms of congress supervision"}},
    ],
    "shared_themes": [
        {"id": "deputy-work", "label": {"zh": "代表工作", "en": "Work with deputies"}},
        {"id": "research-and-expertise", "label": {"zh": "理论研究与专业支撑", "en": "Research and expertise"}},
    ],
    "pairs": [
        {
            "districts": ["haidian", "chaoyang"],
            "shared_mechanisms": [
                {
                    "id": "deputy-stations",
                    "label": {"zh": "人大代表家站", "en": "Deputies' homes and liaison stations"},
                },
                {"id": "supervision-forms", "label": {"zh": "人大监督方式", "en": "Forms of congress supervision"}},
            ],
            "shared_themes": [
                {"id": "deputy-work", "label": {"zh": "代表工作", "en": "Work with deputies"}},
                {"id": "research-and-expertise", "label": {"zh": "理论研究与专业支撑", "en": "Research and expertise"}},
            ],
            "jaccard_mechanisms": 0.07407407407407407,
        }
    ],
}

MATRIX = {
    "districts": [
        {"id": "dongcheng", "label": {"zh": "东城区", "en": "Dongcheng District"}},
        {"id": "xicheng", "label": {"zh": "西城区", "en": "Xicheng District"}},
        {"id": "chaoyang", "label": {"zh": "朝阳区", "en": "Chaoyang District"}},
    ],
    "mechanisms": [
        {
            "id": "supervision-forms",
            "label": {"zh": "人大监督方式", "en": "Forms of congress supervision"},
            "count": 16,
        },
        {
            "id": "deputy-stations",
            "label": {"zh": "人大代表家站", "en": "Deputies' homes and liaison stations"},
            "count": 13,
        },
        {
            "id": "bills-and-suggestions",
            "label": {"zh": "议案建议督办", "en": "Following up deputies' motions and suggestions"},
            "count": 10,
        },
        {"id": "thematic-research", "label": {"zh": "专题调研", "en": "Thematic field research"}, "count": 9},
    ],
    "matrix": [[1, 1, 1, 0], [1, 1, 1, 1], [1, 1, 0, 0]],
}

MATRIX_CSV = (
    "district,supervision-forms,deputy-stations,bills-and-suggestions,thematic-research\r\n"
    "dongcheng,1,1,1,0\r\n"
    "xicheng,1,1,1,1\r\n"
    "chaoyang,1,1,0,0\r\n"
)

SEARCH = {
    "total": 10,
    "results": [
        {
            "type": "mechanism",
            "id": "monthly-station-visit",
            "iri": "https://bjrd-kg.example.org/id/mechanism/monthly-station-visit",
            "label": {"zh": "“月进站”", "en": "Monthly station visit (“月进站”)"},
            "district": None,
            "field": "label",
            "snippet": "«月进站»",
        },
        {
            "type": "practice",
            "id": "dongcheng-monthly-station-visit",
            "iri": "https://bjrd-kg.example.org/id/practice/dongcheng-monthly-station-visit",
            "label": {
                "zh": "“月进站”中代表带着议题征求民意，群众带着难题反映诉求",
                "en": "In the monthly station visits, deputies bring topics to seek public opinion and the "
                "public brings its problems to voice its demands",
            },
            "district": "dongcheng",
            "field": "label",
            "snippet": "“«月进站»”中代表带着议题征求民意，群众带着难题反映诉求",
        },
    ],
}
