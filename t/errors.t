# t/errors.t: every error of SPEC 9.4 / 9.8 that the embedded store can give,
# as JSON {"error": {"code", "message"}} with its HTTP status: bad_json (BOM,
# duplicate keys, invalid UTF-8, lone surrogates, trailing bytes, nesting,
# number range), bad_input, session_not_found, project_not_found,
# method_not_allowed with Allow, session_exists, session_closed,
# turn_id_reused, body_too_large, unsupported_media_type and invalid_project
# with paths.  `conflict` is in t/concurrency.t; session_expired,
# project_version_gone and store_unavailable need Redis.
use FindBin;
use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use DDTTest;

no_shuffle();

DDTTest::defaults(
    http_config => <<'_EOC_',
    ddt_test_now 2026-11-26T10:00:00Z;
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
    ddt_project $TEST_NGINX_DDT_PROJECTS/bye.json;
_EOC_
    config => $DDTTest::ApiConfig,
    more_headers => "Content-Type: application/json",
);

# A session to send turns to, then one bad turn body; the session must not
# have moved (GET version 1).
sub bad_turn {
    my ($id, $body, $code, $status) = @_;
    $body //= "";
    $status //= 400;
    return {
        request => [
            "POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"$id\"}",
            "POST /v1/sessions/$id/turns\n$body",
            "GET /v1/sessions/$id",
        ],
        code => [201, $status, 200],
        json => [undef, { 'error.code' => $code, 'error.message' => qr/\S/ },
                 { version => 1 }],
    };
}

sub nested { my $n = shift; ('[' x $n) . ('1') . (']' x $n) }

run_tests();

__DATA__

=== TEST 1: bad_json: truncated JSON
--- request
POST /v1/sessions
{"project": "echo", "sessionId": "err-json-0001"
--- error_code: 400
--- json eval
{ 'error.code' => 'bad_json', 'error.message' => qr/\S/ }
--- response_headers_like
Content-Type: application/json.*
--- no_error_log
[error]



=== TEST 2: bad_json: a byte order mark before the JSON
--- request eval
"POST /v1/sessions\n\xEF\xBB\xBF{\"project\": \"echo\", \"sessionId\": \"err-bom-00001\"}"
--- error_code: 400
--- json eval
{ 'error.code' => 'bad_json' }
--- no_error_log
[error]



=== TEST 3: bad_json: duplicate keys
--- request
POST /v1/sessions
{"project": "echo", "project": "echo", "sessionId": "err-dup-00001"}
--- error_code: 400
--- json eval
{ 'error.code' => 'bad_json' }
--- no_error_log
[error]



=== TEST 4: bad_json: invalid UTF-8 (a bare continuation byte pair)
--- request eval
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"err-utf-00001\", \"variables\": {\"v\": \"\xC3\x28\"}}"
--- error_code: 400
--- json eval
{ 'error.code' => 'bad_json' }
--- no_error_log
[error]



=== TEST 5: bad_json: an overlong UTF-8 form
--- request eval
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"err-ovl-00001\", \"variables\": {\"v\": \"\xC0\xAF\"}}"
--- error_code: 400
--- json eval
{ 'error.code' => 'bad_json' }
--- no_error_log
[error]



=== TEST 6: bad_json: an encoded surrogate in UTF-8
--- request eval
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"err-sur-00001\", \"variables\": {\"v\": \"\xED\xA0\x80\"}}"
--- error_code: 400
--- json eval
{ 'error.code' => 'bad_json' }
--- no_error_log
[error]



=== TEST 7: bad_json: a code point above U+10FFFF
--- request eval
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"err-big-00001\", \"variables\": {\"v\": \"\xF4\x90\x80\x80\"}}"
--- error_code: 400
--- json eval
{ 'error.code' => 'bad_json' }
--- no_error_log
[error]



=== TEST 8: bad_json: an escaped lone surrogate in a turn
--- request eval
my $t = main::bad_turn("err-lone-0001", '{"text": "a\\ud800b"}', 'bad_json');
$t->{request}
--- error_code eval
main::bad_turn("x")->{code}
--- json eval
main::bad_turn("err-lone-0001", '', 'bad_json')->{json}
--- no_error_log
[error]



=== TEST 9: an escaped surrogate pair is fine
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"err-pair-0001\"}",
"POST /v1/sessions/err-pair-0001/turns\n{\"text\": \"\\ud83d\\ude00\"}",
]
--- error_code eval
[201, 200]
--- json eval
[ undef, { 'messages.0.text' => "You said \xF0\x9F\x98\x80." } ]
--- no_error_log
[error]



=== TEST 10: bad_json: trailing bytes after the JSON value
--- request eval
main::bad_turn("err-trail-001", '{"text": "a"} x', 'bad_json')->{request}
--- error_code eval
main::bad_turn("x")->{code}
--- json eval
main::bad_turn("x", '', 'bad_json')->{json}
--- no_error_log
[error]



=== TEST 11: bad_json: two JSON values in one body
--- request eval
main::bad_turn("err-two-00001", '{"text": "a"}{"text": "b"}', 'bad_json')->{request}
--- error_code eval
main::bad_turn("x")->{code}
--- json eval
main::bad_turn("x", '', 'bad_json')->{json}
--- no_error_log
[error]



=== TEST 12: bad_json: nesting deeper than 64 levels
--- request eval
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"err-deep-0001\", \"variables\": {\"v\": " . main::nested(100) . "}}"
--- error_code: 400
--- json eval
{ 'error.code' => 'bad_json' }
--- no_error_log
[error]



=== TEST 13: 40 levels of nesting are fine
--- request eval
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"err-deep-0002\", \"variables\": {\"v\": " . main::nested(40) . "}}"
--- error_code: 201
--- json eval
{ version => 1 }
--- no_error_log
[error]



=== TEST 14: bad_json: a number outside the double range
--- request
POST /v1/sessions
{"project": "echo", "sessionId": "err-num-00001", "variables": {"v": 1e400}}
--- error_code: 400
--- json eval
{ 'error.code' => 'bad_json' }
--- no_error_log
[error]



=== TEST 15: bad_json: an empty body
--- request
POST /v1/sessions
--- more_headers
Content-Type: application/json
Content-Length: 0
--- error_code: 400
--- json eval
{ 'error.code' => 'bad_json' }
--- no_error_log
[error]



=== TEST 16: bad_input: a turn with no input
--- request eval
main::bad_turn("err-in-000001", '{}', 'bad_input')->{request}
--- error_code eval
main::bad_turn("x")->{code}
--- json eval
main::bad_turn("x", '', 'bad_input')->{json}
--- no_error_log
[error]



=== TEST 17: bad_input: two inputs in one turn
--- request eval
main::bad_turn("err-in-000002", '{"text": "a", "dtmf": "1"}', 'bad_input')->{request}
--- error_code eval
main::bad_turn("x")->{code}
--- json eval
main::bad_turn("x", '', 'bad_input')->{json}
--- no_error_log
[error]



=== TEST 18: bad_input: an unknown event
--- request eval
main::bad_turn("err-in-000003", '{"event": "hangup"}', 'bad_input')->{request}
--- error_code eval
main::bad_turn("x")->{code}
--- json eval
main::bad_turn("x", '', 'bad_input')->{json}
--- no_error_log
[error]



=== TEST 19: bad_input: dtmf outside [0-9*#]
--- request eval
main::bad_turn("err-in-000004", '{"dtmf": "12a"}', 'bad_input')->{request}
--- error_code eval
main::bad_turn("x")->{code}
--- json eval
main::bad_turn("x", '', 'bad_input')->{json}
--- no_error_log
[error]



=== TEST 20: bad_input: text that is not a string
--- request eval
main::bad_turn("err-in-000005", '{"text": 5}', 'bad_input')->{request}
--- error_code eval
main::bad_turn("x")->{code}
--- json eval
main::bad_turn("x", '', 'bad_input')->{json}
--- no_error_log
[error]



=== TEST 21: bad_input: an unknown field beside the input
--- request eval
main::bad_turn("err-in-000006", '{"text": "a", "colour": "red"}', 'bad_input')->{request}
--- error_code eval
main::bad_turn("x")->{code}
--- json eval
main::bad_turn("x", '', 'bad_input')->{json}
--- no_error_log
[error]



=== TEST 22: bad_input: a JSON array instead of an object
--- request eval
main::bad_turn("err-in-000007", '[{"text": "a"}]', 'bad_input')->{request}
--- error_code eval
main::bad_turn("x")->{code}
--- json eval
main::bad_turn("x", '', 'bad_input')->{json}
--- no_error_log
[error]



=== TEST 23: bad_input: values with a key the DDT does not have
--- request eval
main::bad_turn("err-in-000008", '{"values": {"nope": "x"}}', 'bad_input')->{request}
--- error_code eval
main::bad_turn("x")->{code}
--- json eval
main::bad_turn("x", '', 'bad_input')->{json}
--- no_error_log
[error]



=== TEST 24: bad_input: session create without a project
--- request
POST /v1/sessions
{"sessionId": "err-in-000009"}
--- error_code: 400
--- json eval
{ 'error.code' => 'bad_input' }
--- no_error_log
[error]



=== TEST 25: bad_input: a client sessionId shorter than 8 characters
--- request
POST /v1/sessions
{"project": "echo", "sessionId": "short"}
--- error_code: 400
--- json eval
{ 'error.code' => 'bad_input' }
--- no_error_log
[error]



=== TEST 26: bad_input: a client sessionId with a character outside [A-Za-z0-9_-]
--- request
POST /v1/sessions
{"project": "echo", "sessionId": "has/slash-0001"}
--- error_code: 400
--- json eval
{ 'error.code' => 'bad_input' }
--- no_error_log
[error]



=== TEST 27: bad_input: a client sessionId longer than 128 characters
--- request eval
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"" . ('a' x 129) . "\"}"
--- error_code: 400
--- json eval
{ 'error.code' => 'bad_input' }
--- no_error_log
[error]



=== TEST 28: a client sessionId of exactly 8 and of 128 characters is fine
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"abcd-_09\"}",
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"" . ('b' x 128) . "\"}",
]
--- error_code eval
[201, 201]
--- json eval
[ { sessionId => 'abcd-_09' }, { sessionId => 'b' x 128 } ]
--- no_error_log
[error]



=== TEST 29: bad_input: a session variable starting with $
--- request
POST /v1/sessions
{"project": "echo", "sessionId": "err-in-000010", "variables": {"$backend": 1}}
--- error_code: 400
--- json eval
{ 'error.code' => 'bad_input' }
--- no_error_log
[error]



=== TEST 30: bad_input: an unsupported locale
--- request
POST /v1/sessions
{"project": "echo", "sessionId": "err-in-000011", "locale": "fr-FR"}
--- error_code: 400
--- json eval
{ 'error.code' => 'bad_input' }
--- no_error_log
[error]



=== TEST 31: session_not_found on GET, turns and DELETE of an unknown id
--- request eval
[
"GET /v1/sessions/never-created-01",
"POST /v1/sessions/never-created-01/turns\n{\"text\": \"hi\"}",
"DELETE /v1/sessions/never-created-01",
]
--- error_code eval
[404, 404, 404]
--- json eval
[ { 'error.code' => 'session_not_found', 'error.message' => qr/\S/ },
  { 'error.code' => 'session_not_found' },
  { 'error.code' => 'session_not_found' } ]
--- no_error_log
[error]



=== TEST 32: project_not_found on session create and on admin GET
--- request eval
[
"POST /v1/sessions\n{\"project\": \"nope\", \"sessionId\": \"err-proj-0001\"}",
"GET /v1/projects/nope",
]
--- error_code eval
[404, 404]
--- json eval
[ { 'error.code' => 'project_not_found' }, { 'error.code' => 'project_not_found' } ]
--- no_error_log
[error]



=== TEST 33: method_not_allowed on /v1/sessions with Allow: POST
--- request
GET /v1/sessions
--- error_code: 405
--- response_headers
Allow: POST
--- json eval
{ 'error.code' => 'method_not_allowed' }
--- no_error_log
[error]



=== TEST 34: method_not_allowed on /v1/sessions/{id} with Allow: GET, DELETE
--- request
PUT /v1/sessions/abcdefgh-0001
{"x": 1}
--- error_code: 405
--- response_headers_like
Allow: (GET, ?DELETE|DELETE, ?GET)
--- json eval
{ 'error.code' => 'method_not_allowed' }
--- no_error_log
[error]



=== TEST 35: method_not_allowed on turns with Allow: POST
--- request
GET /v1/sessions/abcdefgh-0001/turns
--- error_code: 405
--- response_headers
Allow: POST
--- json eval
{ 'error.code' => 'method_not_allowed' }
--- no_error_log
[error]



=== TEST 36: method_not_allowed on health and on the project list
--- request eval
[
"POST /v1/health\n{}",
"POST /v1/projects\n{}",
]
--- error_code eval
[405, 405]
--- response_headers eval
["Allow: GET", "Allow: GET"]
--- json eval
[ { 'error.code' => 'method_not_allowed' }, { 'error.code' => 'method_not_allowed' } ]
--- no_error_log
[error]



=== TEST 37: method_not_allowed on an admin project with Allow: GET, PUT
--- request
DELETE /v1/projects/echo
--- error_code: 405
--- response_headers_like
Allow: (GET, ?PUT|PUT, ?GET)
--- json eval
{ 'error.code' => 'method_not_allowed' }
--- no_error_log
[error]



=== TEST 38: PUT of a project is not served by the API location
--- config
    location /v1/ {
        ddt_api;
    }
--- request eval
my $p = do { local $/; open my $f, '<', "$ENV{TEST_NGINX_DDT_PROJECTS}/echo.json" or die; <$f> };
$p =~ s/"version": "1"/"version": "api-put"/ or die;
[
"PUT /v1/projects/echo\n$p",
"GET /v1/projects",
]
--- error_code_like eval
['^40[45]$', '^200$']
--- json eval
[ { 'error.code' => qr/^(method_not_allowed|not_found)$/ },
  { 'projects.0.version' => '1' } ]
--- no_error_log
[error]



=== TEST 39: session_exists (409) when a client sessionId is taken
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"err-exists-01\"}",
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"err-exists-01\"}",
"GET /v1/sessions/err-exists-01",
]
--- error_code eval
[201, 409, 200]
--- json eval
[ undef, { 'error.code' => 'session_exists' }, { version => 1 } ]
--- no_error_log
[error]



=== TEST 40: session_closed (410) for a turn on an ended session; GET is still 200
--- request eval
[
"POST /v1/sessions\n{\"project\": \"bye\", \"sessionId\": \"err-closed-01\"}",
"POST /v1/sessions/err-closed-01/turns\n{\"text\": \"hello?\"}",
"GET /v1/sessions/err-closed-01",
]
--- error_code eval
[201, 410, 200]
--- json eval
[ { status => 'ended' }, { 'error.code' => 'session_closed' },
  { status => 'ended', version => 1 } ]
--- no_error_log
[error]



=== TEST 41: turn_id_reused (422): the same turnId with another input
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"err-tid-00001\"}",
"POST /v1/sessions/err-tid-00001/turns\n{\"text\": \"a\", \"turnId\": \"k1\"}",
"POST /v1/sessions/err-tid-00001/turns\n{\"text\": \"b\", \"turnId\": \"k1\"}",
"GET /v1/sessions/err-tid-00001",
]
--- error_code eval
[201, 200, 422, 200]
--- json eval
[ undef, { version => 2 }, { 'error.code' => 'turn_id_reused' }, { version => 2 } ]
--- no_error_log
[error]



=== TEST 42: body_too_large (413) over ddt_max_body_size on the API location
--- config
    location /v1/ {
        ddt_api;
        ddt_max_body_size 1k;
    }
--- request eval
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"err-large-01\", \"variables\": {\"pad\": \"" . ('x' x 2000) . "\"}}"
--- error_code: 413
--- json eval
{ 'error.code' => 'body_too_large' }
--- no_error_log
[error]



=== TEST 43: body_too_large (413) over the 64k default for turns
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"err-large-02\"}",
"POST /v1/sessions/err-large-02/turns\n{\"text\": \"" . ('x' x 70000) . "\"}",
"GET /v1/sessions/err-large-02",
]
--- error_code eval
[201, 413, 200]
--- json eval
[ undef, { 'error.code' => 'body_too_large' }, { version => 1 } ]
--- no_error_log
[error]



=== TEST 44: body_too_large (413) with chunked transfer encoding
--- config
    location /v1/ {
        ddt_api;
        ddt_max_body_size 1k;
    }
--- raw_request eval
my $chunk = '{"project": "echo", "variables": {"pad": "' . ('y' x 3000) . '"}}';
"POST /v1/sessions HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
. "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
. sprintf("%x\r\n", length $chunk) . $chunk . "\r\n0\r\n\r\n"
--- error_code: 413
--- json eval
{ 'error.code' => 'body_too_large' }
--- no_error_log
[error]



=== TEST 45: body_too_large (413) on the admin location over its ddt_max_body_size
--- config
    location /v1/ {
        ddt_api;
    }
    location /v1/projects/ {
        ddt_admin;
        ddt_max_body_size 1k;
    }
--- request eval
"PUT /v1/projects/echo\n{\"format\": \"ddt-project/1\", \"x-pad\": \"" . ('z' x 4000) . "\"}"
--- error_code: 413
--- json eval
{ 'error.code' => 'body_too_large' }
--- no_error_log
[error]



=== TEST 46: the admin location takes projects larger than the API's 64k
--- request eval
my $p = do { local $/; open my $f, '<', "$ENV{TEST_NGINX_DDT_PROJECTS}/echo.json" or die; <$f> };
$p =~ s/"version": "1"/"version": "2", "x-pad": "@{['p' x 100000]}"/ or die;
"PUT /v1/projects/echo\n$p"
--- error_code: 201
--- json eval
{ name => 'echo', version => '2', checksum => qr/\S/, warnings => [] }
--- no_error_log
[error]



=== TEST 47: unsupported_media_type (415) for text/plain
--- request
POST /v1/sessions
{"project": "echo", "sessionId": "err-media-001"}
--- more_headers
Content-Type: text/plain
--- error_code: 415
--- json eval
{ 'error.code' => 'unsupported_media_type' }
--- no_error_log
[error]



=== TEST 48: unsupported_media_type (415) without a Content-Type
--- request
POST /v1/sessions
{"project": "echo", "sessionId": "err-media-002"}
--- more_headers
X-Nothing: 1
--- error_code: 415
--- json eval
{ 'error.code' => 'unsupported_media_type' }
--- no_error_log
[error]



=== TEST 49: unsupported_media_type (415) for a look-alike media type
--- request
POST /v1/sessions
{"project": "echo", "sessionId": "err-media-003"}
--- more_headers
Content-Type: application/jsonx
--- error_code: 415
--- json eval
{ 'error.code' => 'unsupported_media_type' }
--- no_error_log
[error]



=== TEST 50: invalid_project (422) lists every compile error with its path
--- request
PUT /v1/projects/echo
{"format": "ddt-project/1", "name": "echo", "version": "3", "locale": "en-US",
 "flow": {"start": "a",
          "nodes": [{"id": "a", "tasks": [{"type": "SayMessage", "text": "Hi."}]}],
          "edges": [{"from": "a", "to": "ghost"}, {"from": "phantom", "to": "a"}]},
 "ddts": {}}
--- error_code: 422
--- json eval
{
    'error.code' => 'invalid_project',
    'error.message' => qr/\S/,
    'error.errors.#' => 2,
    'error.errors' => qr/"path":"flow\.edges\[0\]\.to".*"path":"flow\.edges\[1\]\.from"|"path":"flow\.edges\[1\]\.from".*"path":"flow\.edges\[0\]\.to"/,
    'error.errors.0.message' => qr/\S/,
}
--- no_error_log
[error]



=== TEST 51: invalid_project (422): an unknown field, a bad regex and a bad expression
--- request
PUT /v1/projects/echo
{"format": "ddt-project/1", "name": "echo", "version": "3", "locale": "en-US",
 "colour": "red",
 "flow": {"start": "ask",
          "nodes": [{"id": "ask", "tasks": [{"type": "GetData", "ddt": "d"}]}],
          "edges": [{"from": "ask", "to": "ask", "condition": "d.x == == 1"}]},
 "ddts": {"d": {"data": [{"id": "x", "kind": "text",
     "extract": [{"type": "regex", "pattern": "(unclosed"}],
     "steps": {"start": ["X?"]}}]}}}
--- error_code: 422
--- json eval
{
    'error.code' => 'invalid_project',
    'error.errors.#' => qr/^[3-9]$/,
    'error.errors' => qr/colour(?s:.*)"path":"ddts\.d\.data\[0\]\.extract\[0\]\.pattern"|"path":"ddts\.d\.data\[0\]\.extract\[0\]\.pattern"(?s:.*)colour/,
}
--- no_error_log
[error]



=== TEST 52: invalid_project (422) when the body name differs from the path
--- request eval
my $p = do { local $/; open my $f, '<', "$ENV{TEST_NGINX_DDT_PROJECTS}/echo.json" or die; <$f> };
"PUT /v1/projects/other\n$p"
--- error_code: 422
--- json eval
{ 'error.code' => 'invalid_project' }
--- no_error_log
[error]



=== TEST 53: invalid_project (422) for a body that is not JSON, and for a BOM
--- request eval
[
"PUT /v1/projects/echo\n{\"format\": ",
"PUT /v1/projects/echo\n\xEF\xBB\xBF{\"format\": \"ddt-project/1\"}",
]
--- error_code eval
[422, 422]
--- json eval
[ { 'error.code' => 'invalid_project' }, { 'error.code' => 'invalid_project' } ]
--- no_error_log
[error]



=== TEST 54: a rejected PUT leaves the current load in place
--- request eval
[
"PUT /v1/projects/echo\n{\"format\": \"ddt-project/1\", \"name\": \"echo\"}",
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"err-keep-0001\"}",
"GET /v1/projects",
]
--- error_code eval
[422, 201, 200]
--- json eval
[ { 'error.code' => 'invalid_project' },
  { 'messages.0.text' => 'Say something.' },
  { projects => qr/"name":"echo"/ } ]
--- no_error_log
[error]



=== TEST 55: an unknown path under the API location is 404 JSON
--- request
GET /v1/nothing-here
--- error_code: 404
--- json eval
{ 'error.code' => qr/\S/, 'error.message' => qr/\S/ }
--- no_error_log
[error]



=== TEST 56: body_too_large (413) over the 16m admin default
--- request eval
"PUT /v1/projects/echo\n{\"format\": \"ddt-project/1\", \"x-pad\": \"" . ('q' x (17 * 1024 * 1024)) . "\"}"
--- error_code: 413
--- json eval
{ 'error.code' => 'body_too_large' }
--- timeout: 20
--- no_error_log
[error]



=== TEST 57: bad_input: a dotted or empty session variable name (memory has no dotted keys)
--- request eval
[
    "POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"err-in-000057\", \"variables\": {\"echo.what\": \"hi\"}}",
    "POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"err-in-000058\", \"variables\": {\"\": 1}}",
    "GET /v1/sessions/err-in-000057",
]
--- error_code eval
[400, 400, 404]
--- json eval
[ { 'error.code' => 'bad_input' }, { 'error.code' => 'bad_input' },
  { 'error.code' => 'session_not_found' } ]
--- no_error_log
[error]




=== TEST 58: bad_input: a locale with an escaped NUL is not a known locale
--- request
POST /v1/sessions
{"project": "echo", "sessionId": "err-in-000059", "locale": "en-US\u0000x"}
--- error_code: 400
--- json eval
{ 'error.code' => 'bad_input' }
--- no_error_log
[error]



=== TEST 59: bad_input: a create field whose name holds an escaped NUL is unknown
--- request
POST /v1/sessions
{"project": "echo", "sessionId\u0000x": "err-in-000060"}
--- error_code: 400
--- json eval
{ 'error.code' => 'bad_input' }
--- no_error_log
[error]
