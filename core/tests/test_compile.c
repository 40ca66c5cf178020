/*
 * test_compile.c: the project compiler (SPEC 2, 3, 5, 9): a good project
 * compiles and loads with the documented defaults; each kind of error is
 * reported with its exact JSON path (and column for expressions and
 * templates); every error is reported at once; unreachable nodes are
 * warnings; the output is deterministic.
 */
#include <stdlib.h>

#include <ddt/ddt.h>
#include "t.h"

/* Test projects are written with ' for " (and \\' for an escaped quote). */
static char *
q(const char *s)
{
    char    *r = strdup(s);
    size_t   i;

    for (i = 0; r[i]; i++) {
        if (r[i] == '\'') {
            r[i] = '"';
        }
    }
    return r;
}

typedef struct {
    ddt_diags_t   d;
    uint8_t      *block;
    size_t        len;
    int           rc;
} res_t;

static void
compile_q(const char *src, res_t *r)
{
    char  *s = q(src);

    ddt_diags_init(&r->d);
    r->rc = ddt_compile(s, strlen(s), &r->d, &r->block, &r->len);
    free(s);
}

static void
res_free(res_t *r)
{
    free(r->block);
    ddt_diags_free(&r->d);
}

static void
dump(const res_t *r)
{
    size_t  i;

    for (i = 0; i < r->d.n; i++) {
        fprintf(stderr, "    %s %s: %s\n", r->d.items[i].warning ? "W" : "E",
                r->d.items[i].path, r->d.items[i].message);
    }
}

/* An error (or warning) at exactly `path` whose message contains `msg`. */
static int
has(const res_t *r, int warning, const char *path, const char *msg)
{
    size_t  i;

    for (i = 0; i < r->d.n; i++) {
        if (r->d.items[i].warning == warning
            && (path == NULL || strcmp(r->d.items[i].path, path) == 0)
            && (msg == NULL || strstr(r->d.items[i].message, msg)))
        {
            return 1;
        }
    }
    dump(r);
    return 0;
}

#define HEAD "'format':'ddt-project/1','name':'t','locale':'it-IT'," \
             "'variables':{'brand':'ACME','channel':null},"

#define GOOD_FLOW \
    "'flow':{'start':'a','nodes':[" \
    "{'id':'a','tasks':[{'type':'SayMessage','text':'Ciao {brand}'}," \
    "{'type':'GetData','ddt':'c'}]}," \
    "{'id':'b','tasks':[{'type':'EndCall','text':'Bye {c.name}'}]}]," \
    "'edges':[{'from':'a','to':'b','condition':'c.$status == \\'ok\\''}]},"

#define GOOD_DDTS \
    "'ddts':{'c':{'data':[{'id':'name','steps':{'start':['Nome?']}}," \
    "{'id':'born','kind':'date','steps':{'start':['Data?']}}]}}"

/* Expect a failed compile with an error at path containing msg. */
static void
expect_error(const char *src, const char *path, const char *msg, int line)
{
    res_t  r;

    compile_q(src, &r);
    CHECK_MSG(r.rc == DDT_ERROR && r.block == NULL, "line %d compiled", line);
    CHECK_MSG(has(&r, 0, path, msg), "line %d: no error at %s (%s)", line,
              path, msg ? msg : "");
    res_free(&r);
}

#define EXPECT(src, path, msg) expect_error(src, path, msg, __LINE__)


static void
test_good_project(void)
{
    res_t           r;
    ddt_project_t  *p;
    char            err[200];
    uint32_t        i;
    const ddt_bitem_t *born, *day, *month, *year;
    const char *src = "{" HEAD
        "'flow':{'start':'a','nodes':["
        "{'id':'a','tasks':[{'type':'SayMessage','text':'Ciao {brand}, {{x}}'},"
        "{'type':'GetData','ddt':'c'}]},"
        "{'id':'b','tasks':[{'type':'SayMessage','text':'Nato il {c.born}'},"
        "{'type':'SetVariable','name':'flags.adult','value':'age(c.born) >= 18'},"
        "{'type':'BackendCall','url':'/api/{c.name}','body':{'n':'{c.name}','free':{'any':1}},"
        "'assign':{'crm.id':'/id'}},"
        "{'type':'TransferToOperator','queue':'q{crm.id}'}]},"
        "{'id':'z','tasks':[{'type':'EndCall'}]}],"
        "'edges':[{'from':'a','to':'b','condition':'flags.adult == true || true'},"
        "{'from':'a','to':'z','condition':'1 > 2'},"
        "{'from':'a','to':'z','condition':'c.name.$confidence < 0.5 && $backend.status == 200'},"
        "{'from':'a','to':'z'}]},"
        "'ddts':{'c':{'mixedInitiative':true,'data':["
        "{'id':'name','steps':{'start':['Nome?']},'x-ui':{'color':1}},"
        "{'id':'born','kind':'date','label':'data di nascita','confirm':'always',"
        "'limits':{'noMatch':5},"
        "'subData':[{'id':'year','kind':'integer','min':1900,'max':2100}],"
        "'validate':[{'condition':'value <= today()','step':'invalid'},"
        "{'condition':'value.year >= 1900','sub':'year','text':'Anno {c.born.year}?'}],"
        "'steps':{'start':['Data?'],'confirmation':['Ho capito {c.born}. Giusto?'],"
        "'invalid':[]}}]}}}";

    compile_q(src, &r);
    CHECK_INT(r.rc, DDT_OK);
    CHECK_INT(r.d.errors, 0);
    dump(&r);
    CHECK(ddt_project_load(r.block, r.len, &p, err, sizeof(err)) == DDT_OK);
    if (p == NULL) {
        fprintf(stderr, "load: %s\n", err);
        res_free(&r);
        return;
    }
    CHECK_STR(ddt_bs(p, p->hdr->name), "t");
    CHECK_STR(ddt_bs(p, p->hdr->timezone), "Europe/Rome");
    CHECK_STR(ddt_bs(p, p->hdr->locale_name), "it-IT");
    CHECK_INT(p->n_nodes, 3);
    CHECK_STR(ddt_bs(p, p->nodes[p->hdr->start_node].id), "a");
    /* edges: the always-true one has no condition, the always-false one
     * is dropped, file order kept */
    CHECK_INT(p->nodes[0].edges.count, 3);
    CHECK_INT(p->edges[p->nodes[0].edges.first].cond, DDT_NONE);
    CHECK_STR(ddt_bs(p, p->nodes[p->edges[p->nodes[0].edges.first].to].id), "b");
    CHECK(p->edges[p->nodes[0].edges.first + 1].cond != DDT_NONE);
    CHECK_INT(p->edges[p->nodes[0].edges.first + 2].cond, DDT_NONE);
    CHECK_INT(p->nodes[1].tasks.count, 4);

    /* items: name, born, then born's day, month (implicit), year */
    CHECK_INT(p->n_ddts, 1);
    CHECK_INT(p->ddts[0].items.count, 2);
    CHECK_INT(p->ddts[0].all_items.count, 5);
    CHECK_INT(p->ddts[0].mixed_initiative, 1);
    CHECK_STR(ddt_bs(p, p->items[0].label), "name");          /* default label */
    CHECK_INT(p->items[0].kind, DDT_KIND_TEXT);
    CHECK_INT(p->items[0].limits[DDT_EV_NOMATCH], 3);
    CHECK_INT(p->items[0].limits[DDT_EV_NOINPUT], 3);
    CHECK_INT(p->items[0].limits[DDT_EV_NOTCONFIRMED], 2);
    CHECK_INT(p->items[0].limits[DDT_EV_INVALID], 3);
    CHECK_INT(p->items[0].required, 1);
    CHECK_INT(p->items[0].layers.count, 1);
    CHECK_INT(p->layers[p->items[0].layers.first].type, DDT_LAYER_PARSER);
    CHECK(p->items[0].confidence_threshold == 0.7);
    born = &p->items[1];
    CHECK_STR(ddt_bs(p, born->label), "data di nascita");
    CHECK_INT(born->confirm, DDT_CONFIRM_ALWAYS);
    CHECK_INT(born->limits[DDT_EV_NOMATCH], 5);
    CHECK_INT(born->subs.count, 3);
    CHECK_INT(born->steps[DDT_STEP_INVALID], DDT_NONE);       /* empty list */
    CHECK(born->steps[DDT_STEP_CONFIRMATION] != DDT_NONE);
    CHECK_INT(born->validates.count, 2);
    CHECK_INT(p->validates[born->validates.first + 1].sub, born->subs.first + 0);
    year = &p->items[born->subs.first];
    day = &p->items[born->subs.first + 1];
    month = &p->items[born->subs.first + 2];
    CHECK_STR(ddt_bs(p, year->id), "year");
    CHECK_INT(year->implicit, 0);
    CHECK(year->min == 1900 && year->max == 2100);
    CHECK_INT(year->limits[DDT_EV_NOMATCH], 5);               /* inherited */
    CHECK_STR(ddt_bs(p, day->id), "day");
    CHECK_INT(day->implicit, 1);
    CHECK_INT(day->kind, DDT_KIND_INTEGER);
    CHECK(day->has_min && day->has_max && day->min == 1 && day->max == 31);
    CHECK_INT(day->limits[DDT_EV_NOMATCH], 5);
    CHECK_INT(day->parent, 1);
    CHECK_STR(ddt_bs(p, month->id), "month");
    CHECK_INT(month->kind, DDT_KIND_MONTH);
    CHECK_INT(month->implicit, 1);
    for (i = 0; i < p->n_items; i++) {
        CHECK(p->items[i].ddt == 0);
    }
    /* template parts: {c.born} carries the date kind, {{ is a brace */
    {
        const ddt_btask_t *say = &p->tasks[p->nodes[1].tasks.first];
        const ddt_btmpl_t *t = &p->tmpls[say->text];
        CHECK_INT(t->parts.count, 2);
        CHECK_STR(ddt_bs(p, p->tparts[t->parts.first].lit), "Nato il ");
        CHECK_INT(p->tparts[t->parts.first + 1].kind, DDT_KIND_DATE);
        say = &p->tasks[p->nodes[0].tasks.first];
        t = &p->tmpls[say->text];
        CHECK_STR(ddt_bs(p, p->tparts[t->parts.first + 2].lit), ", {x}");
    }
    /* BackendCall: method default GET, timeout 3000, body kept as JSON */
    {
        const ddt_btask_t *bc = &p->tasks[p->nodes[1].tasks.first + 2];
        CHECK_INT(bc->type, DDT_TASK_BACKEND);
        CHECK_STR(ddt_bs(p, bc->name), "GET");
        CHECK_INT(bc->timeout_ms, 3000);
        CHECK_INT(bc->assigns.count, 1);
        CHECK_STR(ddt_bs(p, bc->json), "{\"n\":\"{c.name}\",\"free\":{\"any\":1}}");
    }
    ddt_project_free(p);
    res_free(&r);
}


static void
test_deterministic(void)
{
    res_t  a, b;
    const char *src = "{" HEAD GOOD_FLOW GOOD_DDTS "}";

    compile_q(src, &a);
    compile_q(src, &b);
    CHECK_INT(a.rc, DDT_OK);
    CHECK(a.len == b.len && a.len > 0
          && memcmp(a.block, b.block, a.len) == 0);
    res_free(&a);
    res_free(&b);
}


static void
test_warnings(void)
{
    res_t  r;

    compile_q("{" HEAD "'flow':{'start':'a','nodes':["
              "{'id':'a','tasks':[{'type':'EndCall'}]},"
              "{'id':'b','tasks':[]},{'id':'c','tasks':[]}],"
              "'edges':[{'from':'b','to':'c'},{'from':'a','to':'b'}]}}", &r);
    CHECK_INT(r.rc, DDT_OK);
    CHECK_INT(r.d.errors, 0);
    CHECK_INT(r.d.warnings, 2);    /* a ends the call: b and c unreachable */
    CHECK(has(&r, 1, "flow.nodes[1]", "unreachable"));
    CHECK(has(&r, 1, "flow.nodes[2]", "unreachable"));
    res_free(&r);
}


static void
test_all_errors_at_once(void)
{
    res_t  r;

    compile_q("{" HEAD "'bogus':1,"
              "'flow':{'start':'a','nodes':["
              "{'id':'a','tasks':[{'type':'SayMessage','text':'{nope}'},"
              "{'type':'GetData','ddt':'zz'}]}]},"
              "'ddts':{'c':{'data':[{'id':'n','kind':'colour'}]}}}", &r);
    CHECK_INT(r.rc, DDT_ERROR);
    CHECK(has(&r, 0, "bogus", "unknown field"));
    CHECK(has(&r, 0, "flow.nodes[0].tasks[0].text", "unknown path 'nope'"));
    CHECK(has(&r, 0, "flow.nodes[0].tasks[1].ddt", "unknown DDT"));
    CHECK(has(&r, 0, "ddts.c.data[0].kind", "unknown kind"));
    CHECK(has(&r, 0, "ddts.c.data[0].steps.start", "start"));
    CHECK(r.d.errors >= 5);
    res_free(&r);
}


static void
test_errors(void)
{
    /* unknown fields, x- fields allowed, free JSON is free */
    EXPECT("{" HEAD "'foo':1," GOOD_FLOW GOOD_DDTS "}", "foo", "unknown field");
    EXPECT("{" HEAD "'flow':{'start':'a','nodes':[{'id':'a','tasks':["
           "{'type':'SayMessage','txt':'x'}]}]}}",
           "flow.nodes[0].tasks[0].txt", "unknown field");
    EXPECT("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'name','colour':1,"
           "'steps':{'start':['x']}}]}}}", "ddts.c.data[0].colour", "unknown field");
    {
        res_t r;
        compile_q("{" HEAD "'x-designer':{'a':1},'variables':{'$$x':1}," GOOD_FLOW
                  GOOD_DDTS "}", &r);
        /* duplicate key 'variables' is bad JSON: not this test; use body */
        res_free(&r);
        compile_q("{" HEAD "'x-designer':{'a':1},'flow':{'start':'a','nodes':["
                  "{'id':'a','x-pos':[1,2],'tasks':[{'type':'Custom','name':'n',"
                  "'params':{'anything':{'goes':'{brand}'}}}]}]}}", &r);
        CHECK_INT(r.rc, DDT_OK);
        dump(&r);
        res_free(&r);
    }
    /* missing required fields, bad types */
    EXPECT("{" HEAD "'flow':{'start':'a','nodes':[{'id':'a','tasks':["
           "{'type':'GetData'}]}]}}", "flow.nodes[0].tasks[0].ddt", "missing");
    EXPECT("{'format':'ddt-project/1'," GOOD_FLOW GOOD_DDTS "}", "name", "missing");
    EXPECT("{" HEAD "'flow':{'start':'a','nodes':[{'id':'a'}]}}",
           "flow.nodes[0].tasks", "missing");
    EXPECT("{'format':'ddt-project/1','name':5," GOOD_FLOW GOOD_DDTS "}",
           "name", "must be a string");
    EXPECT("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'name','required':'yes',"
           "'steps':{'start':['x']}}]}}}", "ddts.c.data[0].required", "boolean");
    EXPECT("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'name',"
           "'limits':{'noMatch':-1},'steps':{'start':['x']}}]}}}",
           "ddts.c.data[0].limits.noMatch", "integer");
    EXPECT("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'name',"
           "'limits':{'noMatch':1,'bogus':2},'steps':{'start':['x']}}]}}}",
           "ddts.c.data[0].limits.bogus", "unknown field");
    EXPECT("{'format':'ddt-project/2','name':'t'," GOOD_FLOW GOOD_DDTS "}",
           "format", "unsupported");
    /* bad kinds, steps, task types */
    EXPECT("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'name','kind':'colour',"
           "'steps':{'start':['x']}}]}}}", "ddts.c.data[0].kind", "unknown kind");
    EXPECT("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'name',"
           "'validate':[{'condition':'true','step':'nope'}],"
           "'steps':{'start':['x']}}]}}}", "ddts.c.data[0].validate[0].step",
           "unknown step");
    EXPECT("{" HEAD "'flow':{'start':'a','nodes':[{'id':'a','tasks':["
           "{'type':'Dance'}]}]}}", "flow.nodes[0].tasks[0].type",
           "unknown task type");
    EXPECT("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'name',"
           "'steps':{'start':['x'],'nomatch':['y']}}]}}}",
           "ddts.c.data[0].steps.nomatch", "did you mean 'noMatch'");
    EXPECT("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'name',"
           "'steps':{'start':['x'],'tooOld':['y']}}]}}}",
           "ddts.c.data[0].steps.tooOld", "validate rule");
    EXPECT("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'name','confirm':'maybe',"
           "'steps':{'start':['x']}}]}}}", "ddts.c.data[0].confirm", NULL);
    EXPECT("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'name',"
           "'extract':[{'type':'magic'}],'steps':{'start':['x']}}]}}}",
           "ddts.c.data[0].extract[0].type", "unknown layer type");
    /* duplicates */
    EXPECT("{" HEAD "'flow':{'start':'a','nodes':[{'id':'a','tasks':[]},"
           "{'id':'a','tasks':[]}]}}", "flow.nodes[1].id", "duplicate");
    EXPECT("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'name','steps':{'start':"
           "['x']}},{'id':'name','steps':{'start':['x']}}]}}}",
           "ddts.c.data[1].id", "duplicate");
    EXPECT("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'a','kind':'composite',"
           "'subData':[{'id':'s'},{'id':'s'}],'steps':{'start':['x']}}]}}}",
           "ddts.c.data[0].subData[1].id", "duplicate");
    EXPECT("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'name','kind':'choice',"
           "'choices':[{'value':'a'},{'value':'a'}],'steps':{'start':['x']}}]}}}",
           "ddts.c.data[0].choices[1].value", "duplicate");
    /* references */
    EXPECT("{" HEAD "'flow':{'start':'a','nodes':[{'id':'a','tasks':[]}],"
           "'edges':[{'from':'a','to':'zz'}]}}", "flow.edges[0].to", "unknown node");
    EXPECT("{" HEAD "'flow':{'start':'a','nodes':[{'id':'a','tasks':[]}],"
           "'edges':[{'from':'q','to':'a'}]}}", "flow.edges[0].from", "unknown node");
    EXPECT("{" HEAD "'flow':{'start':'a','nodes':[{'id':'a','tasks':["
           "{'type':'GetData','ddt':'zz'}]}]}}", "flow.nodes[0].tasks[0].ddt",
           "unknown DDT");
    EXPECT("{" HEAD "'flow':{'start':'q','nodes':[{'id':'a','tasks':[]}]}}",
           "flow.start", "unknown node");
    EXPECT("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'a','kind':'date',"
           "'validate':[{'condition':'true','sub':'hour'}],"
           "'steps':{'start':['x']}}]}}}", "ddts.c.data[0].validate[0].sub",
           "unknown sub-data");
    /* unknown paths, with columns */
    EXPECT("{" HEAD "'flow':{'start':'a','nodes':[{'id':'a','tasks':["
           "{'type':'SayMessage','text':'Ciao {brnd}'}]}]}}",
           "flow.nodes[0].tasks[0].text", "unknown path 'brnd', column 6");
    EXPECT("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'name','steps':{'start':"
           "['x {c.nome}']}}]}}}", "ddts.c.data[0].steps.start[0]",
           "unknown path 'c.nome', column 3");
    EXPECT("{" HEAD "'flow':{'start':'a','nodes':[{'id':'a','tasks':[]}],"
           "'edges':[{'from':'a','to':'a','condition':'brand == 1 && c.x'}]}}",
           "flow.edges[0].condition", "unknown path 'c.x', column 15");
    EXPECT("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'born','kind':'date',"
           "'validate':[{'condition':'value.hour > 1'}],"
           "'steps':{'start':['x']}}]}}}", "ddts.c.data[0].validate[0].condition",
           "unknown path 'value.hour'");
    EXPECT("{" HEAD "'flow':{'start':'a','nodes':[{'id':'a','tasks':[]}],"
           "'edges':[{'from':'a','to':'a','condition':'value == 1'}]}}",
           "flow.edges[0].condition", "only known inside validate");
    EXPECT("{" HEAD "'flow':{'start':'a','nodes':[{'id':'a','tasks':["
           "{'type':'BackendCall','url':'/x','body':{'a':['{nope}']}}]}]}}",
           "flow.nodes[0].tasks[0].body.a[0]", "unknown path 'nope'");
    /* syntax errors with columns */
    EXPECT("{" HEAD "'flow':{'start':'a','nodes':[{'id':'a','tasks':[]}],"
           "'edges':[{'from':'a','to':'a','condition':'brand == '}]}}",
           "flow.edges[0].condition", "column 10");
    EXPECT("{" HEAD "'flow':{'start':'a','nodes':[{'id':'a','tasks':[]}],"
           "'edges':[{'from':'a','to':'a','condition':'(brand == 1'}]}}",
           "flow.edges[0].condition", "expected ')', column 12");
    EXPECT("{" HEAD "'flow':{'start':'a','nodes':[{'id':'a','tasks':[]}],"
           "'edges':[{'from':'a','to':'a','condition':'brand = 1'}]}}",
           "flow.edges[0].condition", "column 7");
    EXPECT("{" HEAD "'flow':{'start':'a','nodes':[{'id':'a','tasks':["
           "{'type':'SetVariable','name':'v','value':'nofn(1)'}]}]}}",
           "flow.nodes[0].tasks[0].value", "unknown function, column 1");
    EXPECT("{" HEAD "'flow':{'start':'a','nodes':[{'id':'a','tasks':["
           "{'type':'SayMessage','text':'a {brand'}]}]}}",
           "flow.nodes[0].tasks[0].text", "unterminated");
    EXPECT("{" HEAD "'flow':{'start':'a','nodes':[{'id':'a','tasks':["
           "{'type':'SayMessage','text':'a } b'}]}]}}",
           "flow.nodes[0].tasks[0].text", "column 3");
    EXPECT("{" HEAD "'flow':{'start':'a','nodes':[{'id':'a','tasks':["
           "{'type':'SayMessage','text':'a {brand + 1}'}]}]}}",
           "flow.nodes[0].tasks[0].text", "only a path");
    /* asked without start; sub-data fall back to the parent */
    EXPECT("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'name'}]}}}",
           "ddts.c.data[0].steps.start", "start");
    {
        res_t r;
        compile_q("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'name',"
                  "'steps':{'start':['x']}},{'id':'opt','required':false},"
                  "{'id':'born','kind':'date','subData':[{'id':'day'}],"
                  "'steps':{'start':['x']}}]}}}", &r);
        CHECK_INT(r.rc, DDT_OK);
        dump(&r);
        res_free(&r);
    }
    /* confirm without confirmation */
    EXPECT("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'name','confirm':'always',"
           "'steps':{'start':['x'],'confirmation':[]}}]}}}",
           "ddts.c.data[0].confirm", "confirmation");
    /* sub-data with forbidden fields */
    EXPECT("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'b','kind':'date',"
           "'subData':[{'id':'day','confirm':'always'}],'steps':{'start':['x']}}]}}}",
           "ddts.c.data[0].subData[0].confirm", "sub-data");
    EXPECT("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'b','kind':'date',"
           "'subData':[{'id':'day','steps':{'success':['ok']}}],"
           "'steps':{'start':['x']}}]}}}",
           "ddts.c.data[0].subData[0].steps.success", "sub-data");
    EXPECT("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'b','kind':'composite',"
           "'subData':[{'id':'s','subData':[]}],'steps':{'start':['x']}}]}}}",
           "ddts.c.data[0].subData[0].subData", "sub-data");
    /* date sub-data ids and ranges */
    EXPECT("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'b','kind':'date',"
           "'subData':[{'id':'hour'}],'steps':{'start':['x']}}]}}}",
           "ddts.c.data[0].subData[0].id", "day, month and year");
    EXPECT("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'b','kind':'date',"
           "'subData':[{'id':'day','min':0}],'steps':{'start':['x']}}]}}}",
           "ddts.c.data[0].subData[0].min", "narrow");
    EXPECT("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'b','kind':'text',"
           "'subData':[{'id':'s'}],'steps':{'start':['x']}}]}}}",
           "ddts.c.data[0].subData", "only date and composite");
    /* tasks after EndCall / Transfer */
    EXPECT("{" HEAD "'flow':{'start':'a','nodes':[{'id':'a','tasks':["
           "{'type':'EndCall'},{'type':'SayMessage','text':'x'}]}]}}",
           "flow.nodes[0].tasks[1]", "EndCall");
    EXPECT("{" HEAD "'flow':{'start':'a','nodes':[{'id':'a','tasks':["
           "{'type':'TransferToOperator','queue':'q'},{'type':'EndCall'}]}]}}",
           "flow.nodes[0].tasks[1]", "TransferToOperator");
    /* $ segments in SetVariable names */
    EXPECT("{" HEAD "'flow':{'start':'a','nodes':[{'id':'a','tasks':["
           "{'type':'SetVariable','name':'c.$status','value':1}]}]}}",
           "flow.nodes[0].tasks[0].name", "$");
    /* bad regexes */
    EXPECT("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'name',"
           "'extract':[{'type':'regex','pattern':'(?<value>[a-z'}],"
           "'steps':{'start':['x']}}]}}}", "ddts.c.data[0].extract[0].pattern",
           "bad regex");
    EXPECT("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'name','pattern':'a(b',"
           "'steps':{'start':['x']}}]}}}", "ddts.c.data[0].pattern", "bad pattern");
    EXPECT("{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'name',"
           "'extract':[{'type':'regex','pattern':'(?<nome>\\\\w+)'}],"
           "'steps':{'start':['x']}}]}}}", "ddts.c.data[0].extract[0].pattern",
           "group 'nome'");
    EXPECT("{" HEAD "'flow':{'start':'a','nodes':[{'id':'a','tasks':[]}],"
           "'edges':[{'from':'a','to':'a','condition':'matches(brand, \\'[\\')'}]}}",
           "flow.edges[0].condition", "bad matches() pattern");
    EXPECT("{" HEAD "'flow':{'start':'a','nodes':[{'id':'a','tasks':[]}],"
           "'edges':[{'from':'a','to':'a','condition':'matches(brand, brand)'}]}}",
           "flow.edges[0].condition", "literal pattern");
    /* timezone, name, locale, no start */
    EXPECT("{" HEAD "'timezone':'Mars/Olympus'," GOOD_FLOW GOOD_DDTS "}",
           "timezone", "timezone");
    EXPECT("{'format':'ddt-project/1','name':'Bad Name'," GOOD_FLOW GOOD_DDTS "}",
           "name", "[a-z0-9_-]{1,64}");
    EXPECT("{'format':'ddt-project/1','name':'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
           "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'," GOOD_FLOW GOOD_DDTS "}",
           "name", "[a-z0-9_-]{1,64}");
    EXPECT("{" HEAD "'locale':'fr-FR'," GOOD_FLOW GOOD_DDTS "}", NULL, NULL);
    EXPECT("{" HEAD "'flow':{'nodes':[{'id':'a','tasks':[]}]}}", "flow.start",
           "missing");
    EXPECT("{'format':'ddt-project/1','name':'t'}", "flow", "missing");
    /* JSON itself */
    EXPECT("{'format':'ddt-project/1',", "", "invalid JSON");
}


static void
test_bounds(void)
{
    char    *src, *p;
    size_t   i, n;
    res_t    r;

    /* expression nesting: 256 parentheses compile, 300 do not */
    n = 300;
    src = malloc(4096 + 2 * n);
    p = src + sprintf(src, "{" HEAD "'flow':{'start':'a','nodes':[{'id':'a',"
                      "'tasks':[]}],'edges':[{'from':'a','to':'a','condition':'");
    for (i = 0; i < n; i++) *p++ = '(';
    *p++ = '1';
    for (i = 0; i < n; i++) *p++ = ')';
    strcpy(p, " == 1'}]}}");
    compile_q(src, &r);
    CHECK(has(&r, 0, "flow.edges[0].condition", "nested too deeply"));
    res_free(&r);
    free(src);

    /* a long flat chain is fine only up to the same depth */
    n = 400;
    src = malloc(4096 + 4 * n);
    p = src + sprintf(src, "{" HEAD "'flow':{'start':'a','nodes':[{'id':'a',"
                      "'tasks':[]}],'edges':[{'from':'a','to':'a','condition':'brand");
    for (i = 0; i < n; i++) { memcpy(p, "+1", 2); p += 2; }
    strcpy(p, " == 1'}]}}");
    compile_q(src, &r);
    CHECK(has(&r, 0, "flow.edges[0].condition", "nested too deeply"));
    res_free(&r);
    free(src);

    /* 1 000 placeholders per template */
    n = 1001;
    src = malloc(4096 + 8 * n);
    p = src + sprintf(src, "{" HEAD "'flow':{'start':'a','nodes':[{'id':'a',"
                      "'tasks':[{'type':'SayMessage','text':'");
    for (i = 0; i < n; i++) { memcpy(p, "{brand}", 7); p += 7; }
    strcpy(p, "'}]}]}}");
    compile_q(src, &r);
    CHECK(has(&r, 0, "flow.nodes[0].tasks[0].text", "placeholders"));
    res_free(&r);
    p[-7 * 1] = '\0';                  /* 1000 placeholders: fine */
    strcpy(p - 7, "'}]}]}}");
    compile_q(src, &r);
    CHECK_INT(r.rc, DDT_OK);
    res_free(&r);
    free(src);

    /* 1 MiB per prompt */
    n = 1024 * 1024 + 1;
    src = malloc(4096 + n);
    p = src + sprintf(src, "{" HEAD GOOD_FLOW "'ddts':{'c':{'data':[{'id':'name',"
                      "'steps':{'start':['");
    memset(p, 'x', n);
    p += n;
    strcpy(p, "']}},{'id':'born','kind':'date','steps':{'start':['x']}}]}}}");
    compile_q(src, &r);
    CHECK(has(&r, 0, "ddts.c.data[0].steps.start[0]", "1 MiB"));
    res_free(&r);
    free(src);

    /* 100 000 nodes */
    n = 100001;
    src = malloc(4096 + 40 * n);
    p = src + sprintf(src, "{" HEAD "'flow':{'start':'n0','nodes':[");
    for (i = 0; i < n; i++) {
        p += sprintf(p, "%s{'id':'n%zu','tasks':[]}", i ? "," : "", i);
    }
    strcpy(p, "]}}");
    compile_q(src, &r);
    CHECK(has(&r, 0, "flow.nodes", "too many nodes"));
    res_free(&r);
    free(src);

    /* thousands of errors: all counted, the first 1 000 listed */
    n = 3000;
    src = malloc(4096 + 40 * n);
    p = src + sprintf(src, "{" HEAD "'flow':{'start':'a','nodes':[{'id':'a',"
                      "'tasks':[]}],'edges':[");
    for (i = 0; i < n; i++) {
        p += sprintf(p, "%s{'from':'a','to':'x%zu'}", i ? "," : "", i);
    }
    strcpy(p, "]}}");
    compile_q(src, &r);
    CHECK_INT(r.d.errors, 3000);
    CHECK_INT(r.d.n, 1000);
    CHECK(has(&r, 0, "flow.edges[998].to", "unknown node"));
    CHECK(strstr(r.d.items[999].message, "too many errors") != NULL);
    res_free(&r);
    free(src);

    /* JSON nesting 256 for projects: deeper is an error */
    n = 300;
    src = malloc(4096 + 2 * n);
    p = src + sprintf(src, "{" HEAD "'x-deep':");
    for (i = 0; i < n; i++) *p++ = '[';
    for (i = 0; i < n; i++) *p++ = ']';
    strcpy(p, "," GOOD_FLOW GOOD_DDTS "}");
    compile_q(src, &r);
    CHECK_INT(r.rc, DDT_ERROR);
    res_free(&r);
    free(src);
}


/* The SPEC 2 example and the shipped demo projects compile cleanly. */
static void
test_examples(void)
{
    static const char *files[] = {
        "fuzz/corpus/fuzz_project/spec_example.json",
        "fuzz/corpus/fuzz_project/full.json",
        "../conf/projects/clinic.json",
        "../conf/projects/accettazione.json",
    };
    size_t        i, n;
    FILE         *f;
    static char   buf[1 << 20];
    ddt_diags_t   d;
    uint8_t      *b;
    size_t        len;

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        f = fopen(files[i], "rb");
        if (f == NULL) {
            fprintf(stderr, "skip %s (not found)\n", files[i]);
            continue;
        }
        n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        ddt_diags_init(&d);
        CHECK_MSG(ddt_compile(buf, n, &d, &b, &len) == DDT_OK, "%s", files[i]);
        CHECK_INT(d.errors, 0);
        CHECK_INT(d.warnings, 0);
        free(b);
        ddt_diags_free(&d);
    }
}


int
main(void)
{
    test_examples();
    test_good_project();
    test_deterministic();
    test_warnings();
    test_all_errors_at_once();
    test_errors();
    test_bounds();
    return T_DONE();
}
