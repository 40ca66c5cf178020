# t/effects.t: host effects against services the test's own nginx serves
# (SPEC 7, 9.7, issue 7).  BackendCall: success with typed body values and
# headers, assign by JSON pointer (a missing pointer is null), an internal
# redirect in the called location, a header value with a line break, 4xx,
# 5xx and 204 ("status"; onError left to its default, continue), a backend
# that never answers ("timeout", by timeoutMs and by the proxy's own
# timeout), a refused connection ("connect"), an answer that is not JSON
# ("bad_json"), over 1 MiB without Content-Length ("too_large"), a url
# whose template value climbs out of its location (refused), two calls in
# one turn in order, onError "fail" stopping the turn before the next call.
# Extraction: an `ner` service in the engine's JSON and an OpenAI-compatible
# chat-completions service (`ddt_service ... openai model=...`) as the `llm`
# layer: the request is JSON mode with a system prompt, the answer's
# content is read as the engine's answer, content that is not JSON, a reply
# without choices, a 503 or a silent service fall through to the next
# layer, and the confidence decides `ifUncertain`.
use FindBin;
use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use DDTTest;
use IO::Socket::INET ();
use File::Temp ();

no_shuffle();

# an answer over the 1 MiB limit, sent chunked (no Content-Length)
our $Big = File::Temp->new(SUFFIX => '.json');
print $Big '{"value": "' . ('x' x (1024 * 1024 + 100)) . '"}';
close $Big;
chmod 0644, $Big->filename;
$ENV{TEST_NGINX_BIG_FILE} = $Big->filename;

# a port that accepts connections (the kernel's backlog) and never answers
our $Silent = IO::Socket::INET->new(Listen => 64, LocalAddr => '127.0.0.1',
                                    LocalPort => 0, Proto => 'tcp', ReuseAddr => 1)
    or die "listen: $!";
$ENV{TEST_NGINX_SILENT_PORT} = $Silent->sockport;

# a port nobody listens on
{
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, Proto => 'tcp') or die;
    $ENV{TEST_NGINX_CLOSED_PORT} = $s->sockport;
    close $s;
}

# BackendCall urls are /be/<what>
our $Backend = <<'_EOC_';
    location = /be/echo {
        default_type application/json;
        return 200 '{"value": {"hdr": "$http_x_turn", "method": "$request_method", "body": $request_body}}';
    }
    location = /be/first {
        # reads $request_body (none: a GET), so a second call of the turn
        # that got this subrequest's cached value would send no body
        default_type application/json;
        return 200 '{"next": "echo", "body": "$request_body"}';
    }
    location = /be/count {
        default_type application/json;
        return 200 '{"value": 2}';
    }
    location = /be/redirect {
        # an internal redirect inside the called location (error_page,
        # try_files, rewrite ... last) is still the call's answer
        error_page 404 = /be/count;
        return 404;
    }
    location = /be/bigchunked {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/origin-big;
        proxy_hide_header Content-Length;
        proxy_method GET;
        proxy_pass_request_body off;
    }
    location = /origin-big {
        default_type application/json;
        alias $TEST_NGINX_BIG_FILE;
    }
    location /be/hdr/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/origin-hdr;
    }
    location /origin-hdr {
        default_type application/json;
        return 200 '{"value": "turn=$http_x_turn evil=$http_x_evil"}';
    }
    location = /be/e404 {
        default_type application/json;
        return 404 '{"value": "not here"}';
    }
    location = /be/e500 {
        return 500;
    }
    location = /be/e204 {
        return 204;
    }
    location = /be/notjson {
        default_type text/html;
        return 200 '<html>hello</html>';
    }
    location = /be/silent {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SILENT_PORT;
        proxy_read_timeout 30s;
    }
    location = /be/proxytimeout {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SILENT_PORT;
        proxy_read_timeout 200ms;
    }
    location = /be/refused {
        proxy_pass http://127.0.0.1:$TEST_NGINX_CLOSED_PORT;
    }
_EOC_

# the ner service speaks the engine's JSON (docs/engine.md)
our $Ner = <<'_EOC_';
    location = /ner {
        default_type application/json;
        if ($request_body ~ Bari) {
            return 200 '{"values": {"city": "Bari"}, "confidence": 0.95}';
        }
        if ($request_body ~ Pisa) {
            return 200 '{"values": {"city": "Pisa"}, "confidence": 0.4}';
        }
        return 200 '{"values": {}}';
    }
_EOC_

# an OpenAI-compatible server: a request without JSON mode, the model, the
# system prompt or the engine's request as the user message is refused (so
# the layer would fail and the tests below would see the parser instead)
our $OpenAI = <<'_EOC_';
    location = /oai/v1/chat/completions {
        default_type application/json;
        if ($request_method != POST) {
            return 405;
        }
        if ($request_body !~ '"response_format":\{"type":"json_object"\}') {
            return 400 '{"error": "no json mode"}';
        }
        if ($request_body !~ '"model":"test-model"') {
            return 400 '{"error": "no model"}';
        }
        if ($request_body !~ '"role":"system","content":"You extract data') {
            return 400 '{"error": "no system prompt"}';
        }
        if ($request_body !~ '"role":"user","content":"\{\\\\"utterance\\\\":') {
            return 400 '{"error": "no user message"}';
        }
        if ($request_body ~ Torino) {
            return 200 '{"id": "c1", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": "{\\"values\\": {\\"city\\": \\"Torino\\"}, \\"confidence\\": 0.92}"}, "finish_reason": "stop"}]}';
        }
        if ($request_body ~ Milano) {
            return 200 '{"choices": [{"index": 0, "message": {"role": "assistant", "content": "{\\"values\\": {\\"city\\": \\"Milano\\"}, \\"confidence\\": 0.3}"}}]}';
        }
        if ($request_body ~ Como) {
            return 200 '{"choices": [{"index": 0, "message": {"role": "assistant", "content": "{\\"city\\": \\"Como\\", \\"confidence\\": 0.99}"}}]}';
        }
        if ($request_body ~ Napoli) {
            return 200 '{"choices": [{"index": 0, "message": {"role": "assistant", "content": "Sure! The city is Napoli."}, "finish_reason": "stop"}]}';
        }
        if ($request_body ~ Genova) {
            return 200 '{"error": {"message": "model not loaded"}}';
        }
        if ($request_body ~ Verona) {
            return 503 '{"error": {"message": "busy"}}';
        }
        return 200 '{"choices": [{"index": 0, "message": {"role": "assistant", "content": "{\\"values\\": {}, \\"confidence\\": 0}"}}]}';
    }
_EOC_

DDTTest::defaults(
    http_config => <<'_EOC_',
    ddt_test_now 2026-11-26T10:00:00Z;
    ddt_project $TEST_NGINX_DDT_PROJECTS/effects.json;
    ddt_project $TEST_NGINX_DDT_PROJECTS/effectsfail.json;
    ddt_project $TEST_NGINX_DDT_PROJECTS/extract.json;
    ddt_service ner /ner;
    ddt_service oai /oai/v1/chat/completions openai model=test-model;
_EOC_
    config => $DDTTest::ApiConfig . $Backend . $Ner . $OpenAI,
    more_headers => "Content-Type: application/json",
    timeout => 10,
);

sub create { my ($p, $id) = @_; "POST /v1/sessions\n{\"project\": \"$p\", \"sessionId\": \"$id\"}" }
sub turn { my ($id, $text) = @_; "POST /v1/sessions/$id/turns\n{\"text\": \"$text\"}" }

# `--- error_log` is checked after every request of a block, before the
# turn that logs has run: these blocks look for their line themselves, on
# the line of the request that caused it (nginx adds `request: "..."`)
sub logged {
    my ($block, $what, $id) = @_;
    my $file = Test::Nginx::Socket::server_root() . "/logs/error.log";
    my @hits;
    if (open my $fh, '<', $file) {
        @hits = grep { index($_, $what) >= 0 && index($_, "/$id/") >= 0 } <$fh>;
    }
    Test::More::ok(scalar @hits, $block->name . " - error.log: \"$what\" for $id");
}

run_tests();

__DATA__

=== TEST 1: BackendCall success: method, header, typed body values, assign, a missing pointer is null
--- request eval
[
main::create("effects", "eff-ok-000001"),
main::turn("eff-ok-000001", "echo"),
"GET /v1/sessions/eff-ok-000001",
]
--- error_code eval
[201, 200, 200]
--- json eval
[
 undef,
 { status => 'waiting', version => 2,
   'messages.0.text' => 'status=200 error= value={"hdr":"t-echo","method":"POST","body":{"what":"echo","n":41,"said":"n is 41","fixed":[1,true,null]}}',
   'messages.1.text' => 'Which endpoint?' },
 { 'memory.res.value.body' => { what => 'echo', n => 41, said => 'n is 41', fixed => [1, \1, undef] },
   'memory.res.missing' => undef,
   'memory.$backend.status' => 200, 'memory.$backend.error' => undef },
]
--- no_error_log
[error]



=== TEST 1b: the called location may redirect internally (error_page): its final answer counts
--- request eval
[
main::create("effects", "eff-rd-000001"),
main::turn("eff-rd-000001", "redirect"),
]
--- error_code eval
[201, 200]
--- json eval
[ undef, { status => 'waiting', 'messages.0.text' => 'status=200 error= value=2' } ]
--- no_error_log
[error]



=== TEST 1c: a template value with a line break cannot add a header line: that header is not sent
--- request eval
[
main::create("effects", "eff-hd-000001"),
'POST /v1/sessions/eff-hd-000001/turns
{"text": "hdr/x\\r\\nX-Evil: 1"}',
main::turn("eff-hd-000001", "hdr/ok"),
]
--- error_code eval
[201, 200, 200]
--- json eval
[
 undef,
 { status => 'waiting', 'messages.0.text' => 'status=200 error= value=turn= evil=' },
 { status => 'waiting', 'messages.0.text' => 'status=200 error= value=turn=t-hdr/ok evil=' },
]
--- after eval
{ 1 => sub { main::logged($_[0], 'effect header "X-Turn" not sent', "eff-hd-000001") } }
--- no_error_log
[error]



=== TEST 2: 4xx and 5xx are "status" with the HTTP status; the answer is not assigned; a 204 has its status
--- request eval
[
main::create("effects", "eff-st-000001"),
main::turn("eff-st-000001", "e404"),
main::turn("eff-st-000001", "e500"),
"GET /v1/sessions/eff-st-000001",
main::turn("eff-st-000001", "e204"),
]
--- error_code eval
[201, 200, 200, 200, 200]
--- json eval
[
 undef,
 { status => 'waiting', 'messages.0.text' => 'status=404 error=status value=' },
 { status => 'waiting', 'messages.0.text' => 'status=500 error=status value=' },
 { 'memory.$backend.status' => 500, 'memory.$backend.error' => 'status' },
 { status => 'waiting', 'messages.0.text' => 'status=204 error=bad_json value=' },
]
--- no_error_log
[error]



=== TEST 3: a backend that never answers: "timeout" after timeoutMs, status 0
--- request eval
[
main::create("effects", "eff-to-000001"),
main::turn("eff-to-000001", "silent"),
main::turn("eff-to-000001", "echo"),
]
--- error_code eval
[201, 200, 200]
--- json eval
[
 undef,
 { status => 'waiting', version => 2, 'messages.0.text' => 'status=0 error=timeout value=' },
 { version => 3, 'messages.0.text' => qr/^status=200 error= value=\{/ },
]
--- after eval
{ 1 => sub { main::logged($_[0], "effect BackendCall timed out after 500 ms", "eff-to-000001") } }



=== TEST 4: the proxy's own read timeout (504 from nginx) is "timeout" too, not "status"
--- request eval
[
main::create("effects", "eff-pt-000001"),
main::turn("eff-pt-000001", "proxytimeout"),
]
--- error_code eval
[201, 200]
--- json eval
[ undef, { 'messages.0.text' => 'status=0 error=timeout value=' } ]



=== TEST 5: a refused connection is "connect", status 0
--- request eval
[
main::create("effects", "eff-cn-000001"),
main::turn("eff-cn-000001", "refused"),
]
--- error_code eval
[201, 200]
--- json eval
[ undef, { status => 'waiting', 'messages.0.text' => 'status=0 error=connect value=' } ]



=== TEST 6: an answer that is not JSON is "bad_json" with its status, and memory is not touched
--- request eval
[
main::create("effects", "eff-nj-000001"),
main::turn("eff-nj-000001", "notjson"),
"GET /v1/sessions/eff-nj-000001",
]
--- error_code eval
[201, 200, 200]
--- json eval
[
 undef,
 { status => 'waiting', 'messages.0.text' => 'status=200 error=bad_json value=' },
 { 'memory.res' => '<absent>', 'memory.$backend.error' => 'bad_json' },
]
--- no_error_log
[error]



=== TEST 6b: an answer over 1 MiB without a Content-Length is "too_large"
--- request eval
[
main::create("effects", "eff-tl-000001"),
main::turn("eff-tl-000001", "bigchunked"),
main::turn("eff-tl-000001", "echo"),
]
--- error_code eval
[201, 200, 200]
--- json eval
[
 undef,
 { status => 'waiting', 'messages.0.text' => 'status=200 error=too_large value=' },
 { status => 'waiting', 'messages.0.text' => qr/^status=200 error= value=\{/ },
]
--- no_error_log
[error]



=== TEST 7: a url whose template value climbs out of the location is not called ("connect")
The core percent-encodes inserted values ("/" too); the module decodes the
path and refuses any ".." segment that results.
--- request eval
[
main::create("effects", "eff-up-000001"),
main::turn("eff-up-000001", "../v1/health"),
main::turn("eff-up-000001", ".."),
]
--- error_code eval
[201, 200, 200]
--- json eval
[
 undef,
 { status => 'waiting', 'messages.0.text' => 'status=0 error=connect value=' },
 { status => 'waiting', 'messages.0.text' => 'status=0 error=connect value=' },
]
--- after eval
{ 2 => sub { main::logged($_[0], 'is unsafe (a ".." segment or a NUL): not called', "eff-up-000001") } }
--- no_error_log
[error]



=== TEST 8: two BackendCalls in one turn run in order: the second uses the first's answer
--- request eval
[
main::create("effects", "eff-tw-000001"),
main::turn("eff-tw-000001", "two"),
main::turn("eff-tw-000001", "two"),
"GET /v1/sessions/eff-tw-000001",
]
--- error_code eval
[201, 200, 200, 200]
--- json eval
[
 undef,
 { status => 'waiting', version => 2, 'messages.#' => 3,
   'messages.0.text' => 'Two calls.',
   'messages.1.text' => 'first=echo second={"hdr":"","method":"POST","body":{"from":"echo"}} status=200',
   'messages.2.text' => 'Which endpoint?' },
 { version => 3, 'messages.1.text' => qr/^first=echo second=\{/ },
 { 'memory.step.next' => 'echo', 'memory.step.value.body' => { from => 'echo' } },
]
--- no_error_log
[error]



=== TEST 9: onError "fail" on the first of two calls: the second is never made, the session ends in error
--- request eval
[
main::create("effectsfail", "eff-ff-000001"),
main::turn("eff-ff-000001", "e500"),
"GET /v1/sessions/eff-ff-000001",
]
--- error_code eval
[201, 200, 200]
--- json eval
[
 undef,
 { status => 'error', 'error.code' => 'backend_failed', 'error.message' => qr/status/,
   expecting => undef, actions => [] },
 { status => 'error', 'memory.second' => '<absent>', 'memory.$backend.status' => 500 },
]



=== TEST 10: onError "fail" with good answers: both calls made, in order
--- request eval
[
main::create("effectsfail", "eff-ff-000002"),
main::turn("eff-ff-000002", "count"),
]
--- error_code eval
[201, 200]
--- json eval
[ undef, { status => 'ended', 'messages.0.text' => 'first=2 second=2' } ]
--- no_error_log
[error]



=== TEST 11: an ner service in the engine's JSON with a high confidence fills the node without confirmation
--- request eval
[
main::create("extract", "eff-ner-00001"),
main::turn("eff-ner-00001", "sto a Bari"),
"GET /v1/sessions/eff-ner-00001",
]
--- error_code eval
[201, 200, 200]
--- json eval
[
 undef,
 { status => 'ended', 'messages.0.text' => 'Città: Bari.' },
 { 'memory.where.city' => 'Bari', 'memory.where.$meta.city.layer' => 'ner',
   'memory.where.$meta.city.confidence' => 0.95 },
]
--- no_error_log
[error]



=== TEST 12: an ner confidence below confidenceThreshold asks for confirmation (ifUncertain)
--- request eval
[
main::create("extract", "eff-ner-00002"),
main::turn("eff-ner-00002", "sto a Pisa"),
main::turn("eff-ner-00002", "sì"),
]
--- error_code eval
[201, 200, 200]
--- json eval
[
 undef,
 { status => 'waiting', 'messages.0.text' => 'Ho capito Pisa. È corretto?',
   'messages.0.step' => 'confirmation', 'expecting.kind' => 'yesno' },
 { status => 'ended', 'messages.0.text' => 'Città: Pisa.' },
]
--- no_error_log
[error]



=== TEST 13: OpenAI-compatible llm (JSON mode): a confident answer fills the node without confirmation
--- request eval
[
main::create("extract", "eff-oai-00001"),
main::turn("eff-oai-00001", "abito a Torino"),
"GET /v1/sessions/eff-oai-00001",
]
--- error_code eval
[201, 200, 200]
--- json eval
[
 undef,
 { status => 'ended', 'messages.0.text' => 'Città: Torino.' },
 { 'memory.where.city' => 'Torino', 'memory.where.$meta.city.layer' => 'llm',
   'memory.where.$meta.city.confidence' => 0.92 },
]
--- no_error_log
[error]



=== TEST 14: OpenAI-compatible llm: a low confidence asks for confirmation; "no" asks again
--- request eval
[
main::create("extract", "eff-oai-00002"),
main::turn("eff-oai-00002", "abito a Milano"),
main::turn("eff-oai-00002", "no"),
]
--- error_code eval
[201, 200, 200]
--- json eval
[
 undef,
 { status => 'waiting', 'messages.0.text' => 'Ho capito Milano. È corretto?',
   'expecting.step' => 'confirmation' },
 { status => 'waiting', 'expecting.step' => 'notConfirmed' },
]
--- no_error_log
[error]



=== TEST 15: OpenAI-compatible llm: content without the "values" wrapper is taken as the values
--- request eval
[
main::create("extract", "eff-oai-00003"),
main::turn("eff-oai-00003", "abito a Como"),
"GET /v1/sessions/eff-oai-00003",
]
--- error_code eval
[201, 200, 200]
--- json eval
[
 undef,
 { status => 'ended', 'messages.0.text' => 'Città: Como.' },
 { 'memory.where.$meta.city.layer' => 'llm', 'memory.where.$meta.city.confidence' => 0.99 },
]
--- no_error_log
[error]



=== TEST 16: an LLM answer whose content is not valid JSON is a failed layer: the parser fills the node
--- request eval
[
main::create("extract", "eff-oai-00004"),
main::turn("eff-oai-00004", "abito a Napoli"),
"GET /v1/sessions/eff-oai-00004",
]
--- error_code eval
[201, 200, 200]
--- json eval
[
 undef,
 { status => 'ended', 'messages.0.text' => 'Città: abito a Napoli.' },
 { 'memory.where.$meta.city.layer' => 'parser', 'memory.where.$meta.city.confidence' => 1 },
]
--- after eval
{ 1 => sub { main::logged($_[0], 'service "oai" (openai) at "/oai/v1/chat/completions" gave an answer (message content) that is not a JSON object: the layer yields no value', "eff-oai-00004") } }
--- no_error_log
[error]



=== TEST 17: a chat-completions reply without choices, or a 503, is a failed layer too
--- request eval
[
main::create("extract", "eff-oai-00005"),
main::turn("eff-oai-00005", "abito a Genova"),
main::create("extract", "eff-oai-00006"),
main::turn("eff-oai-00006", "abito a Verona"),
]
--- error_code eval
[201, 200, 201, 200]
--- json eval
[
 undef,
 { status => 'ended', 'messages.0.text' => 'Città: abito a Genova.' },
 undef,
 { status => 'ended', 'messages.0.text' => 'Città: abito a Verona.' },
]
--- after eval
{ 1 => sub { main::logged($_[0], "gave a reply without choices[0]", "eff-oai-00005") },
  3 => sub { main::logged($_[0], 'llm "/oai/v1/chat/completions" failed: status 503', "eff-oai-00006") } }
--- no_error_log
[error]



=== TEST 18: an llm service that never answers: the layer times out and the parser fills the node
--- config eval
$DDTTest::ApiConfig . $main::Backend . $main::Ner . <<'_EOC_'
    location = /oai/v1/chat/completions {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SILENT_PORT;
        proxy_read_timeout 30s;
    }
_EOC_
--- request eval
[
main::create("extract", "eff-oai-00007"),
main::turn("eff-oai-00007", "abito a Torino"),
]
--- error_code eval
[201, 200]
--- json eval
[ undef, { status => 'ended', 'messages.0.text' => 'Città: abito a Torino.' } ]
--- after eval
{ 1 => sub { main::logged($_[0], "effect llm timed out after 1000 ms", "eff-oai-00007") } }



=== TEST 19: ddt_service takes only "openai" and "model=" after the URI
--- http_config
    ddt_service oai /oai openai temperature=1;
--- config
    location /v1/ { ddt_api; }
--- request
GET /v1/health
--- must_die
--- error_log eval
qr/\[emerg\].*ddt_service "oai": invalid parameter "temperature=1"/
