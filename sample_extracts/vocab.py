"""Word lists the fake names, products and enums are drawn from (all fictitious)."""

from __future__ import annotations

REGIONS = ("East China", "North China", "South China", "Central China", "Southwest", "Northwest",
           "Northeast", "Hong Kong", "International")
REGION_WORDS = ("华东", "华北", "华南", "华中", "西南", "西北", "东北", "香港", "环球")
CITIES = ("苏州", "上海", "杭州", "南京", "宁波", "北京", "天津", "广州", "深圳", "武汉", "成都", "重庆",
          "西安", "沈阳", "厦门", "青岛")
BRAND_WORDS = ("精密", "恒通", "宏达", "瑞丰", "金桥", "天元", "盛世", "海天", "中科", "新华", "东方",
               "长江", "珠江", "博远", "华信", "永安", "远航", "嘉禾", "启明", "鼎盛")
INDUSTRIES = ("manufacturing", "technology", "financial_services", "government", "media", "retail",
              "logistics", "healthcare", "energy", "education")
INDUSTRY_WORDS = ("制造", "科技", "金融服务", "信息中心", "传媒", "商贸", "物流", "医疗", "能源", "教育科技")
#: industries whose accounts are often served for their standing (customer_type "important")
STANDING_INDUSTRIES = ("financial_services", "government", "media")
SEGMENTS = ("enterprise", "upper_mid_market", "mid_market")  # by size, largest first
CUSTOMER_TYPES = ("economic", "important", "group", "strategic")
EN_WORDS = ("Pacific", "Harbor", "Golden", "Summit", "Lotus", "Jade", "Northern", "Silverline", "Orient",
            "Crescent")
EN_NOUNS = ("Logistics", "Trading", "Holdings", "Systems", "Capital", "Industries")
EN_FORMS = ("Co., Ltd.", "Limited", "GmbH", "Inc.")
CURRENCIES = ("CNY", "USD", "EUR", "HKD")
CURRENCY_WEIGHTS = (0.72, 0.14, 0.07, 0.07)
#: CNY per unit on the first history day, and daily volatility of the log rate
FX_BASE = {"USD": 7.10, "EUR": 7.75, "HKD": 0.91}
FX_VOL = 0.003
PAYMENT_TERMS = (30, 45, 60, 90)
SURNAMES = (("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
            ("赵", "zhao"), ("黄", "huang"), ("周", "zhou"), ("吴", "wu"), ("徐", "xu"), ("孙", "sun"))
GIVEN_NAMES = (("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("磊", "lei"),
               ("洋", "yang"), ("艳", "yan"), ("勇", "yong"), ("军", "jun"), ("杰", "jie"), ("涛", "tao"),
               ("明", "ming"), ("超", "chao"), ("秀英", "xiuying"), ("建华", "jianhua"))
CONTACT_ROLES = ("CEO", "CFO", "CIO", "IT Director", "Procurement Manager", "Operations Manager")
OPEN_STAGES = ("prospecting", "qualification", "proposal", "negotiation")
STAGE_PROBABILITY = {"prospecting": 0.1, "qualification": 0.25, "proposal": 0.5, "negotiation": 0.75,
                     "won": 1.0, "lost": 0.0}
ACTIVITY_TYPES = ("email", "call", "meeting", "visit", "qbr", "executive_visit")
ACTIVITY_WEIGHTS = (0.32, 0.25, 0.2, 0.13, 0.05, 0.05)
CREDIT_REASONS = ("price adjustment", "service outage credit", "returned goods", "billing error",
                  "volume rebate, Q4", "goodwill")
#: (product_code, description) by line kind; descriptions exercise quoting and non-ASCII text
MONTHLY_PRODUCTS = (("SUB-STD", "标准版订阅服务"), ("SUB-PRO", "Professional subscription"),
                    ("CLOUD-CPU", "Cloud compute, vCPU-month"), ("CLOUD-STO", "云存储 (TB/月)"),
                    ("SUP-PREM", 'Support "Premium" plan'))
ONE_OFF_PRODUCTS = (("SVC-IMPL", "实施服务"), ("SVC-TRAIN", "Training day"),
                    ("HW-DEV", "Edge device, model X2"), ("SVC-CONSULT", "咨询服务 - 现场"))
ANNUAL_PRODUCT = ("SUB-ANNUAL", "年度预付订阅 (12个月)")
#: monthly revenue multiplier by calendar month (Jan..Dec): Spring Festival dip, year-end peak
SEASONALITY = (0.97, 0.82, 1.0, 1.0, 1.02, 1.03, 0.98, 0.97, 1.02, 0.95, 1.05, 1.18)
