"""Writes that break the shapes: SPARQL updates on the article's data graph, one or more per
constraint of ontology/shapes.ttl (tests/test_checks.py, tests/test_revalidate.py)."""

PREFIXES = """PREFIX bjrd: <https://bjrd-kg.example.org/ontology#> PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#> PREFIX schema: <https://schema.org/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> PREFIX id: <https://bjrd-kg.example.org/id/>
"""

#: (what it changes, a SPARQL update on the article's data graph, the shapes it must violate: None for
#: "some", an empty set for none: ``@zh-cn`` is a Chinese label, and Oxigraph stores ``xsd:int`` as ``xsd:integer``)
INJECTED = [
    ("code missing", "DELETE WHERE { id:district\\/haidian bjrd:divisionCode ?c }", {"S01-code"}),
    ("code twice", 'INSERT DATA { id:district\\/haidian bjrd:divisionCode "110199" }', {"S01-code"}),
    ("code shared", 'DELETE WHERE { id:district\\/haidian bjrd:divisionCode ?c } ; '
                    'INSERT DATA { id:district\\/haidian bjrd:divisionCode "110101" }', {"S01"}),
    ("code pattern", 'DELETE WHERE { id:district\\/haidian bjrd:divisionCode ?c } ; '
                     'INSERT DATA { id:district\\/haidian bjrd:divisionCode "120108" }', {"S01-code"}),
    ("code datatype", 'DELETE WHERE { id:district\\/haidian bjrd:divisionCode ?c } ; '
                      'INSERT DATA { id:district\\/haidian bjrd:divisionCode "110108"@zh }', {"S01-code"}),
    ("code IRI", 'DELETE WHERE { id:district\\/haidian bjrd:divisionCode ?c } ; '
                 'INSERT DATA { id:district\\/haidian bjrd:divisionCode id:code\\/110108 }', {"S01-code"}),
    ("district label zh", "DELETE { id:district\\/haidian rdfs:label ?l } WHERE { id:district\\/haidian "
                          "rdfs:label ?l FILTER(lang(?l) = 'zh') }", None),
    ("district label zh-CN", 'DELETE { id:district\\/haidian rdfs:label ?l } '
                             'INSERT { id:district\\/haidian rdfs:label "海淀"@zh-cn } '
                             "WHERE { id:district\\/haidian rdfs:label ?l FILTER(lang(?l) = 'zh') }", set()),
    ("district label en", "DELETE { id:district\\/haidian rdfs:label ?l } WHERE { id:district\\/haidian "
                          "rdfs:label ?l FILTER(lang(?l) = 'en') }", {"S01-label-en"}),
    ("practice label en", "DELETE { ?p rdfs:label ?l } WHERE { { SELECT ?p WHERE { ?p a bjrd:Practice } ORDER BY ?p "
                          "LIMIT 1 } ?p rdfs:label ?l FILTER(lang(?l) = 'en') }", {"S02-label-en"}),
    ("practice label zh", "DELETE { ?p rdfs:label ?l } WHERE { { SELECT ?p WHERE { ?p a bjrd:Practice } ORDER BY ?p "
                          "LIMIT 1 } ?p rdfs:label ?l FILTER(lang(?l) = 'zh') }", {"S02-label-zh"}),
    ("theme no zh label", "DELETE { ?t skos:prefLabel ?l } WHERE { { SELECT ?t WHERE { ?t a bjrd:Theme } ORDER BY ?t "
                          "LIMIT 1 } ?t skos:prefLabel ?l FILTER(lang(?l) = 'zh') }", {"S04-label-zh"}),
    ("paragraph not a quote", 'DELETE { ?d bjrd:paragraph ?q } INSERT { ?d bjrd:paragraph "第一段" } '
                              "WHERE { BIND(id:district\\/haidian AS ?d) ?d bjrd:paragraph ?q }", {"S01-paragraph"}),
    ("practice without district", "DELETE { ?p bjrd:district ?d } WHERE { { SELECT ?p WHERE { ?p a "
                                  "bjrd:Practice } ORDER BY ?p LIMIT 1 } ?p bjrd:district ?d }", None),
    ("practice in two districts", "INSERT { ?p bjrd:district id:district\\/xicheng, id:district\\/dongcheng } "
                                  "WHERE { { SELECT ?p WHERE { ?p a bjrd:Practice } ORDER BY ?p LIMIT 1 } }", None),
    ("practice uses a theme as mechanism", "INSERT { ?p bjrd:usesMechanism ?t } WHERE { { SELECT ?p ?t WHERE "
                                           "{ ?p a bjrd:Practice ; bjrd:theme ?t } ORDER BY ?p LIMIT 1 } }", None),
    ("practice uses a literal", 'INSERT { ?p bjrd:usesMechanism "x" } WHERE { { SELECT ?p WHERE { ?p a '
                                'bjrd:Practice } ORDER BY ?p LIMIT 1 } }', None),
    ("practice without theme", "DELETE { ?p bjrd:theme ?t } WHERE { { SELECT ?p WHERE { ?p a bjrd:Practice } "
                               "ORDER BY DESC(?p) LIMIT 1 } ?p bjrd:theme ?t }", None),
    ("practice evidence not a quote", "INSERT { ?p bjrd:evidence ?p } WHERE { { SELECT ?p WHERE { ?p a "
                                      "bjrd:Practice } ORDER BY ?p LIMIT 2 } }", None),
    ("mechanism two zh labels", 'INSERT { ?m skos:prefLabel "另一个"@zh } WHERE { { SELECT ?m WHERE { ?m a '
                                'bjrd:Mechanism } ORDER BY ?m LIMIT 1 } }', None),
    ("mechanism no en label", "DELETE { ?m skos:prefLabel ?l } WHERE { { SELECT ?m WHERE { ?m a "
                              "bjrd:Mechanism } ORDER BY ?m LIMIT 1 } ?m skos:prefLabel ?l FILTER(lang(?l) = "
                              "'en') }", None),
    ("definition plain", 'INSERT { ?m skos:definition "plain" } WHERE { { SELECT ?m WHERE { ?m a '
                         'bjrd:Mechanism } ORDER BY ?m LIMIT 1 } }', None),
    ("definition twice en", 'INSERT { ?m skos:definition "again"@en } WHERE { { SELECT ?m WHERE { ?m a '
                            'bjrd:Mechanism } ORDER BY ?m LIMIT 1 } }', None),
    ("definition missing", "DELETE { ?m skos:definition ?d } WHERE { { SELECT ?m WHERE { ?m a bjrd:Mechanism "
                           "} ORDER BY DESC(?m) LIMIT 1 } ?m skos:definition ?d FILTER(lang(?d) = 'en') }", None),
    ("mechanism out of scheme", "DELETE { ?m skos:inScheme ?s } WHERE { { SELECT ?m WHERE { ?m a "
                                "bjrd:Mechanism } ORDER BY ?m LIMIT 1 } ?m skos:inScheme ?s }", None),
    # A named mechanism no practice uses: no practice's quote says it either (S03-named-in-evidence).
    ("mechanism unused", 'INSERT DATA { id:mechanism\\/unused a bjrd:Mechanism ; '
                         'skos:prefLabel "未用"@zh, "unused"@en ; skos:definition "未用"@zh, "unused"@en ; '
                         'skos:inScheme id:scheme\\/mechanisms ; bjrd:mechanismKind bjrd:Named }',
     {"S03-used", "S03"}),
# New constraints of the shapes (dates, topics, mechanism kinds, SPARQL constraints).
    ("practice date plain", 'INSERT { ?p dcterms:date "2023年" } WHERE { { SELECT ?p WHERE { ?p a '
                            'bjrd:Practice } ORDER BY ?p LIMIT 1 } }', None),
    ("practice date ill-formed", 'INSERT { ?p dcterms:date "2023-02-30"^^xsd:date } WHERE { { SELECT '
                                 '?p WHERE { ?p a bjrd:Practice } ORDER BY ?p LIMIT 1 } }', None),
    ("practice date dateTime", 'INSERT { ?p dcterms:date "2023-08-31T00:00:00"^^xsd:dateTime } '
                               'WHERE { { SELECT ?p WHERE { ?p a bjrd:Practice } ORDER BY ?p '
                               'LIMIT 1 } }', None),
    ("practice two dates", 'INSERT { ?p dcterms:date "2021"^^xsd:gYear, "2021-03-01"^^xsd:date } '
                           'WHERE { { SELECT ?p WHERE { ?p a bjrd:Practice } ORDER BY ?p LIMIT 1 '
                           '} }', None),
    ("practice start time plain", 'INSERT { ?p schema:startTime "早上7点" } WHERE { { SELECT ?p '
                                  'WHERE { ?p a bjrd:Practice } ORDER BY ?p LIMIT 1 } }', None),
    ("practice start time ill-formed", 'INSERT { ?p schema:startTime "7am"^^xsd:time } WHERE { { '
                                       'SELECT ?p WHERE { ?p a bjrd:Practice } ORDER BY ?p LIMIT '
                                       '1 } }', None),
    ("practice start date month", 'INSERT { ?p schema:startDate "2023-01"^^xsd:gYearMonth } '
                                  'WHERE { { SELECT ?p WHERE { ?p a bjrd:Practice } ORDER BY ?p '
                                  'LIMIT 1 } }', None),
    ("practice two end dates", 'INSERT { ?p schema:endDate "2023"^^xsd:gYear, "2024"^^xsd:gYear '
                               '} WHERE { { SELECT ?p WHERE { ?p a bjrd:Practice } ORDER BY ?p '
                               'LIMIT 1 } }', None),
    ("practice supervises a theme", 'INSERT { ?p bjrd:supervisesTopic ?t } WHERE { { SELECT ?p '
                                    '?t WHERE { ?p a bjrd:Practice ; bjrd:theme ?t } ORDER BY ?p '
                                    'LIMIT 1 } }', None),
    ("practice supervises a literal", 'INSERT { ?p bjrd:supervisesTopic "监督" } WHERE { { SELECT ?p WHERE { ?p a '
                                      'bjrd:Practice } ORDER BY ?p LIMIT 1 } }', {"S02-topic"}),
    ("mechanism without kind", 'DELETE { ?m bjrd:mechanismKind ?k } WHERE { { SELECT ?m WHERE { '
                               '?m a bjrd:Mechanism } ORDER BY ?m LIMIT 1 } ?m '
                               'bjrd:mechanismKind ?k }', None),
    ("mechanism kind other", 'DELETE { ?m bjrd:mechanismKind ?k } INSERT { ?m bjrd:mechanismKind '
                             'bjrd:Other } WHERE { { SELECT ?m WHERE { ?m a bjrd:Mechanism } '
                             'ORDER BY ?m LIMIT 1 } ?m bjrd:mechanismKind ?k }', None),
    ("mechanism two kinds", 'INSERT { ?m bjrd:mechanismKind bjrd:Named, bjrd:Umbrella } WHERE { '
                            '{ SELECT ?m WHERE { ?m a bjrd:Mechanism } ORDER BY ?m LIMIT 1 } }', None),
    ("umbrella groups nothing", 'DELETE { ?n skos:broader ?m } WHERE { { SELECT ?m WHERE { ?m '
                                'bjrd:mechanismKind bjrd:Umbrella } ORDER BY ?m LIMIT 1 } ?n '
                                'skos:broader ?m }', None),
    ("named mechanism not said", 'DELETE { ?m skos:prefLabel ?l ; skos:altLabel ?a } INSERT { ?m '
                                 'skos:prefLabel "从未说过的机制"@zh } WHERE { { SELECT ?m WHERE { ?m '
                                 'bjrd:mechanismKind bjrd:Named } ORDER BY ?m LIMIT 1 } ?m '
                                 "skos:prefLabel ?l FILTER(lang(?l) = 'zh') OPTIONAL { ?m "
                                 'skos:altLabel ?a } }', None),
    ("top theme without evidence", 'INSERT DATA { id:theme\\/new a bjrd:Theme ; skos:prefLabel "新主题"@zh, "new"@en ; '
                                   'skos:inScheme id:scheme\\/themes ; skos:topConceptOf id:scheme\\/themes }', None),
    ("fact date dateTime", 'INSERT { ?f dcterms:date "2023-08-31T00:00:00"^^xsd:dateTime } WHERE '
                           '{ { SELECT ?f WHERE { ?f a bjrd:Fact } ORDER BY ?f LIMIT 1 } }', None),
    ("topic no zh label", 'DELETE { ?t skos:prefLabel ?l } WHERE { { SELECT ?t WHERE { ?t a '
                          'bjrd:SupervisionTopic } ORDER BY ?t LIMIT 1 } ?t skos:prefLabel ?l '
                          "FILTER(lang(?l) = 'zh') }", None),
    ("topic two en labels", 'INSERT { ?t skos:prefLabel "other"@en } WHERE { { SELECT ?t WHERE { '
                            '?t a bjrd:SupervisionTopic } ORDER BY ?t LIMIT 1 } }', None),
    ("topic out of scheme", 'DELETE { ?t skos:inScheme ?s } WHERE { { SELECT ?t WHERE { ?t a '
                            'bjrd:SupervisionTopic } ORDER BY ?t LIMIT 1 } ?t skos:inScheme ?s }', None),
    ("topic unsupervised", 'INSERT DATA { id:topic\\/unused a bjrd:SupervisionTopic ; '
                           'skos:prefLabel "未用"@zh, "unused"@en ; skos:inScheme '
                           'id:scheme\\/topics }', None),
    ("topic not said", 'INSERT { ?p bjrd:supervisesTopic ?t } WHERE { { SELECT ?p WHERE { ?p a '
                       'bjrd:Practice } ORDER BY DESC(?p) LIMIT 1 } { SELECT ?t WHERE { ?t a '
                       'bjrd:SupervisionTopic } ORDER BY ?t LIMIT 1 } }', None),
    ("theme out of scheme", "DELETE { ?t skos:inScheme ?s } WHERE { { SELECT ?t WHERE { ?t a bjrd:Theme } "
                            "ORDER BY ?t LIMIT 1 } ?t skos:inScheme ?s }", None),
    ("theme two en labels", 'INSERT { ?t skos:prefLabel "other"@en } WHERE { { SELECT ?t WHERE { ?t a '
                            'bjrd:Theme } ORDER BY ?t LIMIT 1 } }', None),
    ("fact value string", 'DELETE { ?f schema:value ?v } INSERT { ?f schema:value "12" } WHERE { { SELECT ?f '
                          'WHERE { ?f a bjrd:Fact } ORDER BY ?f LIMIT 1 } ?f schema:value ?v }', None),
    ("fact value int", 'DELETE { ?f schema:value ?v } INSERT { ?f schema:value "12"^^xsd:int } WHERE { { '
                       'SELECT ?f WHERE { ?f a bjrd:Fact } ORDER BY ?f LIMIT 1 } ?f schema:value ?v }', set()),
    ("fact value ill-formed", 'DELETE { ?f schema:value ?v } INSERT { ?f schema:value "twelve"^^xsd:integer } '
                              'WHERE { { SELECT ?f WHERE { ?f a bjrd:Fact } ORDER BY ?f LIMIT 1 } ?f '
                              'schema:value ?v }', None),
    ("fact two values", 'INSERT { ?f schema:value 3.5 } WHERE { { SELECT ?f WHERE { ?f a bjrd:Fact } ORDER BY '
                        '?f LIMIT 1 } }', None),
    ("fact no unit", "DELETE { ?f schema:unitText ?u } WHERE { { SELECT ?f WHERE { ?f a bjrd:Fact } ORDER BY "
                     "?f LIMIT 1 } ?f schema:unitText ?u }", None),
    ("fact unit outside the list", 'DELETE { ?f bjrd:unit ?u } INSERT { ?f bjrd:unit bjrd:UnitDa . bjrd:UnitDa a '
                                   'bjrd:Unit ; skos:prefLabel "大"@zh } WHERE { { SELECT ?f WHERE { ?f a bjrd:Fact } '
                                   'ORDER BY ?f LIMIT 1 } ?f bjrd:unit ?u }', None),
    ("fact unit text not its unit's", 'DELETE { ?f schema:unitText ?t } INSERT { ?f schema:unitText "members"@en } '
                                      'WHERE { { SELECT ?f WHERE { ?f a bjrd:Fact } ORDER BY ?f LIMIT 1 } ?f '
                                      "schema:unitText ?t FILTER(lang(?t) = 'en') }", None),
    ("topic no kind", 'DELETE { ?t bjrd:topicKind ?k } WHERE { { SELECT ?t WHERE { ?t a bjrd:SupervisionTopic } '
                      'ORDER BY ?t LIMIT 1 } ?t bjrd:topicKind ?k }', None),
    ("umbrella topic groups nothing", 'DELETE { ?n skos:broader ?t } WHERE { { SELECT ?t WHERE { ?t '
                                      'bjrd:topicKind bjrd:Umbrella } ORDER BY ?t LIMIT 1 } ?n skos:broader ?t }',
     None),
    ("fact practice is a district", "DELETE { ?f bjrd:ofPractice ?p } INSERT { ?f bjrd:ofPractice ?d } WHERE "
                                    "{ { SELECT ?f WHERE { ?f a bjrd:Fact } ORDER BY ?f LIMIT 1 } ?f "
                                    "bjrd:ofPractice ?p ; bjrd:district ?d }", None),
    ("fact no evidence", "DELETE { ?f bjrd:evidence ?q } WHERE { { SELECT ?f WHERE { ?f a bjrd:Fact } ORDER "
                         "BY ?f LIMIT 1 } ?f bjrd:evidence ?q }", None),
    ("fact no label", "DELETE { ?f rdfs:label ?l } WHERE { { SELECT ?f WHERE { ?f a bjrd:Fact } ORDER BY ?f "
                      "LIMIT 1 } ?f rdfs:label ?l }", None),
    ("quote exact tagged", 'DELETE { ?q oa:exact ?e } INSERT { ?q oa:exact "x"@zh } WHERE { { SELECT ?q WHERE '
                           '{ ?q a bjrd:Quote } ORDER BY ?q LIMIT 1 } ?q oa:exact ?e }', None),
    ("quote exact empty", 'DELETE { ?q oa:exact ?e } INSERT { ?q oa:exact "" } WHERE { { SELECT ?q WHERE { ?q '
                          'a bjrd:Quote } ORDER BY ?q LIMIT 1 } ?q oa:exact ?e }', None),
    ("quote start negative", 'DELETE { ?q oa:start ?s } INSERT { ?q oa:start -1 } WHERE { { SELECT ?q WHERE { '
                             '?q a bjrd:Quote } ORDER BY ?q LIMIT 1 } ?q oa:start ?s }', None),
    ("quote start after end", 'DELETE { ?q oa:start ?s } INSERT { ?q oa:start ?e2 } WHERE { { SELECT ?q WHERE '
                              '{ ?q a bjrd:Quote } ORDER BY ?q LIMIT 1 } ?q oa:start ?s ; oa:end ?e BIND(?e + '
                              '5 AS ?e2) }', None),
    ("quote start string", 'DELETE { ?q oa:start ?s } INSERT { ?q oa:start "3" } WHERE { { SELECT ?q WHERE { '
                           '?q a bjrd:Quote } ORDER BY ?q LIMIT 1 } ?q oa:start ?s }', None),
    ("quote two ends", 'INSERT { ?q oa:end 999999 } WHERE { { SELECT ?q WHERE { ?q a bjrd:Quote } ORDER BY ?q '
                       'LIMIT 1 } }', None),
    ("quote end decimal", 'DELETE { ?q oa:end ?e } INSERT { ?q oa:end 12.0 } WHERE { { SELECT ?q WHERE { ?q a '
                          'bjrd:Quote } ORDER BY ?q LIMIT 1 } ?q oa:end ?e }', None),
    ("quote source literal", 'DELETE { ?q dcterms:source ?s } INSERT { ?q dcterms:source "the article" } '
                             'WHERE { { SELECT ?q WHERE { ?q a bjrd:Quote } ORDER BY ?q LIMIT 1 } ?q '
                             'dcterms:source ?s }', None),
    ("quote source blank", 'DELETE { ?q dcterms:source ?s } INSERT { ?q dcterms:source [] } WHERE { { SELECT '
                           '?q WHERE { ?q a bjrd:Quote } ORDER BY ?q LIMIT 1 } ?q dcterms:source ?s }', None),
]
