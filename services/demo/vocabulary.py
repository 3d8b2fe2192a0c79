"""The made-up vocabulary of the demo: names, places, companies, products, phrases."""
from decimal import Decimal

from services.names import pinyin_keys

# --- the demo business --------------------------------------------------------------------------

CN_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
CN_SURNAME_WEIGHTS = (14, 14, 13, 10, 9, 6, 5, 5, 5, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 2)
CN_GIVEN_M = ("伟 强 磊 军 勇 杰 涛 明 超 斌 浩 鹏 志强 建华 俊杰 浩然 宇轩 文博 子豪 嘉豪 "
              "一鸣 思远 国栋 海涛 振宇").split()
CN_GIVEN_F = ("芳 娜 敏 静 丽 艳 娟 霞 婷 雪 秀英 桂英 晓燕 欣怡 子涵 雨桐 梓萱 诗涵 佳怡 婉清 "
              "晨曦 海燕 丽华 慧敏 玉兰").split()
CN_MOBILE_PREFIXES = ("130 131 132 133 135 136 137 138 139 150 151 152 155 156 157 158 159 "
                      "180 181 182 183 186 187 188 189").split()
# province, city, districts, streets, postal code prefix, weight
CN_REGIONS = (
    ("北京市", "北京市", ("朝阳区", "海淀区", "东城区", "西城区"),
     ("建国路", "中关村大街", "望京街", "三里屯路", "金融大街"), "1000", 16),
    ("上海市", "上海市", ("浦东新区", "徐汇区", "静安区", "长宁区"),
     ("世纪大道", "淮海中路", "南京西路", "虹桥路", "张杨路"), "2000", 18),
    ("广东省", "广州市", ("天河区", "越秀区", "海珠区"),
     ("天河路", "体育西路", "北京路", "江南大道中"), "5100", 11),
    ("广东省", "深圳市", ("南山区", "福田区", "罗湖区"),
     ("深南大道", "科技园南路", "华强北路", "海德三道"), "5180", 11),
    ("浙江省", "杭州市", ("西湖区", "上城区", "滨江区"),
     ("文三路", "延安路", "江南大道", "南山路"), "3100", 9),
    ("四川省", "成都市", ("锦江区", "武侯区", "高新区"),
     ("春熙路", "人民南路", "天府大道", "科华北路"), "6100", 8),
    ("江苏省", "南京市", ("鼓楼区", "玄武区", "建邺区"),
     ("中山路", "汉中路", "江东中路", "珠江路"), "2100", 8),
    ("江苏省", "苏州市", ("姑苏区", "苏州工业园区"), ("干将路", "星湖街", "观前街"), "2150", 6),
    ("湖北省", "武汉市", ("武昌区", "江汉区", "洪山区"), ("中南路", "解放大道", "珞喻路"), "4300", 6),
    ("陕西省", "西安市", ("雁塔区", "碑林区"), ("长安南路", "小寨东路", "南大街"), "7100", 5),
)
CN_COMPANIES = (  # company, industry, size
    ("云帆网络科技有限公司", "internet", "201-1000"), ("华夏精密制造有限公司", "manufacturing", "1000+"),
    ("蓝海贸易有限公司", "retail", "11-50"), ("锦程物流股份有限公司", "logistics", "1000+"),
    ("新禾教育咨询有限公司", "education", "51-200"), ("瑞丰餐饮管理有限公司", "hospitality", "51-200"),
    ("恒信金融服务有限公司", "finance", "201-1000"), ("德康医疗器械有限公司", "healthcare", "51-200"),
    ("青禾设计工作室", "consulting", "1-10"), ("万象置业有限公司", "real_estate", "201-1000"),
)
CN_JOBS = ("采购经理", "行政主管", "总经理", "设计总监", "软件工程师", "市场经理", "财务主管",
           "销售总监", "人力资源经理", "店长")
# (name, gender) given names, family names, cities, streets (number after the street name?)
INTL = {
    "GB": ((("Emma", "female"), ("Oliver", "male"), ("Amelia", "female"), ("Harry", "male"),
            ("Charlotte", "female"), ("George", "male"), ("Isla", "female")),
           ("Wilson", "Smith", "Brown", "Taylor", "Evans", "O'Brien", "Hughes"),
           ("London", "Manchester", "Edinburgh", "Bristol"),
           ("Baker Street", "King's Road", "Deansgate", "Princes Street"), False, 15),
    "US": ((("James", "male"), ("Olivia", "female"), ("Michael", "male"), ("Sophia", "female"),
            ("Ethan", "male"), ("Ava", "female"), ("Daniel", "male")),
           ("Johnson", "Davis", "Miller", "Garcia", "Rodriguez", "Lee", "Anderson"),
           ("New York", "San Francisco", "Seattle", "Boston", "Chicago"),
           ("5th Avenue", "Market Street", "Pine Street", "Beacon Street"), False, 18),
    "DE": ((("Zoë", "female"), ("Lukas", "male"), ("Jürgen", "male"), ("Anna", "female"),
            ("Felix", "male"), ("Lena", "female"), ("Maximilian", "male")),
           ("Müller", "Schäfer", "Weiß", "Schmidt", "Köhler", "Becker"),
           ("Berlin", "München", "Hamburg", "Köln"),
           ("Friedrichstraße", "Maximilianstraße", "Königsallee"), True, 12),
    "FR": ((("Chloé", "female"), ("Léa", "female"), ("Hugo", "male"), ("Théo", "male"),
            ("Manon", "female"), ("Louis", "male"), ("Camille", "female")),
           ("Dubois", "Martin", "Lefèvre", "Moreau", "Laurent", "Girard"),
           ("Paris", "Lyon", "Marseille", "Bordeaux"),
           ("rue de Rivoli", "boulevard Haussmann", "rue de la République"), False, 10),
    "ES": ((("José", "male"), ("María", "female"), ("Lucía", "female"), ("Javier", "male"),
            ("Sofía", "female"), ("Álvaro", "male")),
           ("Álvarez", "Fernández", "Gómez", "Núñez", "Martínez", "Ruiz"),
           ("Madrid", "Barcelona", "Sevilla", "Valencia"),
           ("Calle de Alcalá", "Passeig de Gràcia", "Calle Sierpes"), True, 8),
    "AU": ((("Jack", "male"), ("Mia", "female"), ("Noah", "male"), ("Chloe", "female"),
            ("William", "male"), ("Ruby", "female")),
           ("Thompson", "Anderson", "Walker", "White", "Harris"),
           ("Sydney", "Melbourne", "Brisbane"),
           ("George Street", "Collins Street", "Queen Street"), False, 8),
    "JP": ((("Haruto", "male"), ("Yui", "female"), ("Sakura", "female"), ("Ren", "male"),
            ("Aoi", "female"), ("Sota", "male")),
           ("Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe"),
           ("Tokyo", "Osaka", "Yokohama"), ("Omotesando", "Midosuji", "Motomachi"), False, 8),
    "CA": ((("Liam", "male"), ("Émilie", "female"), ("Noah", "male"), ("Olivia", "female"),
            ("Félix", "male")),
           ("Tremblay", "Gagnon", "Roy", "Wilson", "Côté"),
           ("Toronto", "Vancouver", "Montréal"),
           ("Yonge Street", "Robson Street", "rue Sainte-Catherine"), False, 8),
    "IT": ((("Giulia", "female"), ("Matteo", "male"), ("Francesca", "female"),
            ("Lorenzo", "male"), ("Chiara", "female")),
           ("Rossi", "Bianchi", "Romano", "Ricci", "Esposito"),
           ("Milano", "Roma", "Firenze"),
           ("Via Montenapoleone", "Via del Corso", "Via de' Tornabuoni"), True, 7),
    "SG": ((("Ethan", "male"), ("Chloe", "female"), ("Ryan", "male"), ("Rachel", "female"),
            ("Marcus", "male")),
           ("Tan", "Lim", "Ng", "Wong", "Goh"), ("Singapore",),
           ("Orchard Road", "Tanjong Pagar Road", "Holland Road"), False, 6),
}


def ascii_local(text):
    """The ASCII letters and digits of a name's pinyin or folded spelling, for an email local
    part (the card service refuses non-ASCII local parts)."""
    folded = pinyin_keys(text)[0].replace("ß", "ss")
    return "".join(ch for ch in folded if ch.isascii() and ch.isalnum()) or "customer"


def random_digits(rng, count):
    return "".join(str(rng.randrange(10)) for _ in range(count))


# Mobile numbers per country, E.164 without the check: the generator retries until valid.
INTL_MOBILE = {
    "GB": lambda r: "+447" + r.choice("456789") + random_digits(r, 8),
    "US": lambda r: ("+1" + r.choice(("212", "646", "415", "628", "617", "206", "312"))
                     + r.choice("23456789") + random_digits(r, 6)),
    "DE": lambda r: ("+49" + r.choice(("151", "152", "160", "170", "171", "175", "176", "177"))
                     + random_digits(r, r.choice((7, 8)))),
    "FR": lambda r: "+33" + r.choice("67") + random_digits(r, 8),
    "ES": lambda r: "+346" + random_digits(r, 8),
    "AU": lambda r: "+614" + random_digits(r, 8),
    "JP": lambda r: "+81" + r.choice(("90", "80", "70")) + random_digits(r, 8),
    "CA": lambda r: ("+1" + r.choice(("416", "647", "604", "778", "514")) + r.choice("23456789")
                     + random_digits(r, 6)),
    "IT": lambda r: "+393" + random_digits(r, 9),
    "SG": lambda r: "+65" + r.choice("89") + random_digits(r, 7),
}
INTL_COMPANIES = (("Northwind Traders", "retail", "51-200"),
                  ("Contoso Consulting", "consulting", "11-50"),
                  ("Fabrikam Engineering", "manufacturing", "201-1000"),
                  ("Blue Harbour Logistics", "logistics", "1000+"),
                  ("Maple Learning", "education", "11-50"))
INTL_JOBS = ("Product Manager", "Architect", "Consultant", "Teacher", "Operations Director",
             "Software Engineer", "Buyer")

# sku, zh, en, category, unit price (CNY), highest quantity, weight
PRODUCTS = (
    ("CL-COAT-01", "羊绒大衣", "Cashmere coat", "clothing", "2680.00", 1, 4),
    ("CL-SHRT-02", "真丝衬衫", "Silk shirt", "clothing", "899.00", 2, 7),
    ("CL-SUIT-03", "修身西装", "Tailored suit", "clothing", "1999.00", 1, 4),
    ("CL-KNIT-04", "针织开衫", "Knit cardigan", "clothing", "459.00", 2, 8),
    ("CL-JEAN-05", "直筒牛仔裤", "Straight-leg jeans", "clothing", "399.00", 2, 8),
    ("CL-DOWN-06", "轻薄羽绒服", "Light down jacket", "clothing", "1299.00", 1, 5),
    ("CL-DRSS-07", "真丝连衣裙", "Silk dress", "clothing", "1580.00", 1, 4),
    ("CL-SHOE-08", "休闲运动鞋", "Casual sneakers", "clothing", "699.00", 1, 6),
    ("BT-SERM-01", "修护精华液 30ml", "Repair serum 30 ml", "beauty", "680.00", 2, 7),
    ("BT-CRM-02", "保湿面霜 50g", "Moisturising cream 50 g", "beauty", "520.00", 2, 7),
    ("BT-SUN-03", "清爽防晒霜 SPF50", "Sunscreen SPF 50", "beauty", "198.00", 3, 8),
    ("BT-LIP-04", "丝绒口红", "Velvet lipstick", "beauty", "320.00", 3, 7),
    ("BT-PERF-05", "淡香水 50ml", "Eau de toilette 50 ml", "beauty", "950.00", 1, 4),
    ("BT-MASK-06", "补水面膜（10片）", "Hydrating sheet masks (10)", "beauty", "168.00", 3, 8),
    ("BT-FACE-07", "面部护理疗程", "Facial treatment session", "beauty", "580.00", 1, 5),
    ("AP-AIR-01", "空气净化器", "Air purifier", "appliance", "2999.00", 1, 2),
    ("AP-ROBO-02", "扫地机器人", "Robot vacuum", "appliance", "3299.00", 1, 2),
    ("AP-HAIR-03", "高速吹风机", "High-speed hair dryer", "appliance", "1599.00", 1, 3),
    ("AP-COFF-04", "全自动咖啡机", "Automatic coffee machine", "appliance", "4599.00", 1, 1),
    ("AP-WATR-05", "厨下净水器", "Under-sink water purifier", "appliance", "2399.00", 1, 2),
    ("AP-BRSH-06", "声波电动牙刷", "Sonic electric toothbrush", "appliance", "499.00", 2, 5),
    ("AP-FILT-07", "净化器替换滤芯", "Replacement purifier filter", "appliance", "299.00", 2, 4),
)
PRODUCT_BY_SKU = {p[0]: p for p in PRODUCTS}
INSTALLED = {"AP-AIR-01", "AP-ROBO-02", "AP-COFF-04", "AP-WATR-05"}
DISCOUNTS = (Decimal("1"), Decimal("1"), Decimal("1"), Decimal("0.95"), Decimal("0.9"),
             Decimal("0.8"))

# channel, direction, outcome, subject, request, resolution
INTERACTIONS = {
    "zh": (
        ("phone", "outbound", "follow_up", "新品到店通知", "告知客户秋冬新品已到店，客户表示周末来看看。",
         "已记录到店意向，周末前再次确认。"),
        ("wechat", "inbound", "resolved", "咨询尺码", "客户询问羊绒大衣 M 码是否有货。",
         "已确认有货并为客户预留三天。"),
        ("visit", "inbound", "sale", "到店试穿", "客户到店试穿修身西装，需要修改裤长。",
         "安排裁缝修改，三天后取货。"),
        ("phone", "inbound", "resolved", "安装预约", "客户预约空气净化器上门安装，希望周六上午。",
         "已安排师傅周六上午 10 点上门。"),
        ("email", "inbound", "resolved", "发票申请", "客户需要为上次消费开具增值税专用发票。",
         "发票已开具并寄出。"),
        ("chat", "inbound", "resolved", "换货咨询", "客户询问网购连衣裙的换货流程。",
         "已说明七天无理由换货流程并发送退货地址。"),
        ("phone", "outbound", "resolved", "满意度回访", "回访上次服务体验。",
         "客户满意，建议周末增加服务时段。"),
        ("wechat", "outbound", "resolved", "生日祝福", "发送生日祝福及生日礼券。", "客户表示感谢。"),
        ("phone", "outbound", "no_answer", "会员活动邀请", "邀请客户参加会员日活动。",
         "无人接听，已发短信说明。"),
        ("wechat", "inbound", "follow_up", "咨询净水器滤芯", "客户询问滤芯更换周期和价格。",
         "已发送报价，客户考虑后答复。"),
    ),
    "en": (
        ("email", "inbound", "resolved", "Question about sizing",
         "Asked whether the cashmere coat runs large and if size M is in stock.",
         "Confirmed stock and held one for three days."),
        ("phone", "outbound", "follow_up", "New season preview",
         "Called to invite the customer to the autumn preview evening.",
         "Interested; will confirm by email."),
        ("visit", "inbound", "sale", "Fitting appointment",
         "Came in for a suit fitting; the trousers need shortening.",
         "Alterations booked, ready in three days."),
        ("chat", "inbound", "resolved", "Delivery status", "Asked where the online order is.",
         "Tracking number sent; delivery expected tomorrow."),
        ("email", "inbound", "resolved", "Invoice request",
         "Needs a company invoice for the last purchase.", "Invoice issued and emailed."),
        ("phone", "inbound", "resolved", "Installation booking",
         "Wants the air purifier installed on Saturday morning.",
         "Technician booked for Saturday 10:00."),
        ("email", "outbound", "resolved", "Satisfaction follow-up",
         "Followed up on the last service visit.",
         "Happy with the service; asked about evening slots."),
        ("phone", "outbound", "no_answer", "Member event invitation",
         "Called to invite the customer to the members' day.", "No answer; sent an email."),
        ("chat", "inbound", "follow_up", "Filter replacement",
         "Asked how often the purifier filter must be replaced and what it costs.",
         "Sent a quote; the customer will decide next week."),
    ),
}

# category, rating, message, reply
FEEDBACK = {
    "zh": (
        ("product", 5, "大衣质量很好，穿着很暖和，版型也合身。", "感谢您的认可，期待您再次光临！"),
        ("delivery", 2, "快递比承诺晚了三天，希望改进。",
         "非常抱歉给您带来不便，我们已联系快递公司改进，并为您补发一张 50 元礼券。"),
        ("service", 4, "安装师傅很专业，准时上门，讲解也很清楚。", "谢谢您的反馈，我们会转达给师傅。"),
        ("staff", 5, "店员非常耐心，推荐很到位。", "谢谢您的鼓励！"),
        ("suggestion", 3, "希望周末能延长营业时间。", "感谢建议，我们正在评估周末延长营业的方案。"),
        ("product", 1, "吹风机用了两周就坏了，很失望。",
         "非常抱歉！请携带吹风机到店，我们为您免费更换新机。"),
        ("service", 3, "会员积分规则不太清楚。", "抱歉让您困惑，顾问会与您联系详细说明积分规则。"),
    ),
    "en": (
        ("product", 5, "Lovely quality, the coat is very warm and fits well.",
         "Thank you, we are glad you like it!"),
        ("delivery", 2, "The parcel arrived three days late.",
         "We are sorry about the delay and have added a ¥50 voucher to your account."),
        ("service", 4, "The technician was on time and very professional.",
         "Thank you, we will pass this on."),
        ("suggestion", 3, "Evening appointments would really help.",
         "Thanks for the suggestion; we are planning evening slots on Thursdays."),
        ("product", 2, "The serum irritated my skin a little.",
         "We are sorry; please bring it back and we will refund or exchange it."),
        ("staff", 5, "The staff in the store gave me great advice.",
         "Thank you for the kind words!"),
    ),
}

SPECIAL_REQUIREMENTS = {
    "zh": ("对坚果过敏", "安装前需提前一天电话确认", "只接受周末上门服务", "需要开具增值税专用发票",
           "行动不便，请安排一楼试衣间", "皮肤敏感，只用无香型产品"),
    "en": ("Prefers evening appointments", "Wheelchair access needed",
           "Please call before delivery", "Fragrance-free products only"),
}
NOTES = {
    "zh": ("喜欢简约风格，常在周末到店。", "介绍了两位朋友成为会员。", "对价格比较敏感，关注促销活动。",
           "公司团购联系人，每年年底采购员工礼品。", "偏好微信沟通，不方便接电话。"),
    "en": ("Usually shops for gifts before holidays.",
           "Referred by a colleague; likes minimal styles.",
           "Travels often; prefers online orders.", "Lives in Shanghai part of the year."),
}
BRANDS = {"zh": ("优衣库、COS", "雅诗兰黛、兰蔻", "戴森、飞利浦", "李宁、安踏", "之禾、例外"),
          "en": ("COS, Aesop", "Dyson", "Uniqlo, Muji", "Le Labo", "Acne Studios")}
QUIET_HOURS = {"zh": ("22:00-08:00", "12:00-14:00（午休）", "工作日 9:00-18:00 请勿来电"),
               "en": ("after 21:00", "22:00-08:00", "weekday mornings")}
ALLERGIES = {"zh": ("对坚果过敏", "酒精过敏（护肤品）", "对羊毛过敏，只穿纯棉内衬"),
             "en": ("Sensitive skin: fragrance-free products only", "Allergic to wool")}
