# t/config.t: the module's directives as a user meets them: a broken project
# fails nginx at start with the compiler's path and message (the same check
# `nginx -t` runs), a missing file too; ddt_session_timeout expires idle
# sessions; ddt_test_now pins today() for validation.
use FindBin;
use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use DDTTest;

no_shuffle();

DDTTest::defaults(
    config => $DDTTest::ApiConfig,
    more_headers => "Content-Type: application/json",
);

sub turn { my ($id, $body) = @_; "POST /v1/sessions/$id/turns\n$body" }

run_tests();

__DATA__

=== TEST 1: a project with a compile error stops nginx at start, with its path
--- http_config
    ddt_project $TEST_NGINX_DDT_PROJECTS/broken.json;
--- request
GET /v1/health
--- must_die
--- error_log eval
[qr/\[emerg\].*flow\.edges\[0\]\.to/, qr/nowhere/]



=== TEST 2: a project file that does not exist stops nginx at start
--- http_config
    ddt_project $TEST_NGINX_DDT_PROJECTS/does-not-exist.json;
--- request
GET /v1/health
--- must_die
--- error_log eval
qr/\[emerg\].*does-not-exist\.json/



=== TEST 3: a project file that is not JSON stops nginx at start
--- http_config
    ddt_project $TEST_NGINX_SERVER_ROOT/html/notjson.json;
--- user_files
>>> notjson.json
{"format": "ddt-project/1", "name":
--- request
GET /v1/health
--- must_die
--- error_log eval
qr/\[emerg\].*notjson\.json/



=== TEST 4: two files with the same project name stop nginx at start
--- http_config
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
--- request
GET /v1/health
--- must_die
--- error_log eval
qr/\[emerg\].*echo/



=== TEST 5: without any project, health answers and the project list is empty
--- http_config
--- request eval
["GET /v1/health", "GET /v1/projects"]
--- error_code eval
[200, 200]
--- json eval
[ undef, { projects => [] } ]
--- no_error_log
[error]



=== TEST 6: ddt_session_timeout: an idle session is gone after the timeout
--- http_config
    ddt_session_timeout 1s;
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"conf-ttl-0001\"}",
"GET /v1/sessions/conf-ttl-0001",
]
--- wait: 2.5
--- error_code eval
[201, 404]
--- json eval
[ undef, { 'error.code' => 'session_not_found' } ]
--- no_error_log
[error]



=== TEST 7: ddt_session_timeout: each turn renews the session
--- http_config
    ddt_session_timeout 2s;
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"conf-ttl-0002\"}",
"POST /v1/sessions/conf-ttl-0002/turns\n{\"text\": \"a\"}",
"POST /v1/sessions/conf-ttl-0002/turns\n{\"text\": \"b\"}",
"GET /v1/sessions/conf-ttl-0002",
]
--- wait: 1.2
--- error_code eval
[201, 200, 200, 200]
--- json eval
[ undef, { version => 2 }, { version => 3 }, { version => 3 } ]
--- no_error_log
[error]



=== TEST 8: ddt_test_now pins today(): 12 marzo 2026 is in the past on 2026-11-26
--- http_config
    ddt_test_now 2026-11-26T10:00:00Z;
    ddt_project $TEST_NGINX_DDT_PROJECTS/booking.json;
--- request eval
[
"POST /v1/sessions\n{\"project\": \"booking\", \"sessionId\": \"conf-now-0001\"}",
main::turn("conf-now-0001", '{"text": "Mario Rossi"}'),
main::turn("conf-now-0001", '{"text": "12 marzo 2026"}'),
]
--- error_code eval
[201, 200, 200]
--- json eval
[ undef, undef, { 'messages.0.step' => 'confirmation' } ]
--- no_error_log
[error]



=== TEST 9: ddt_test_now pins today(): 12 marzo 2026 is in the future on 2026-01-01
--- http_config
    ddt_test_now 2026-01-01T10:00:00Z;
    ddt_project $TEST_NGINX_DDT_PROJECTS/booking.json;
--- request eval
[
"POST /v1/sessions\n{\"project\": \"booking\", \"sessionId\": \"conf-now-0002\"}",
main::turn("conf-now-0002", '{"text": "Mario Rossi"}'),
main::turn("conf-now-0002", '{"text": "12 marzo 2026"}'),
]
--- error_code eval
[201, 200, 200]
--- json eval
[ undef, undef, { 'messages.0.step' => 'invalid',
                  'messages.0.text' => 'La data non può essere nel futuro. Me la ripete?' } ]
--- no_error_log
[error]



=== TEST 10: a bad ddt_test_now value is a configuration error
--- http_config
    ddt_test_now yesterday;
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
--- request
GET /v1/health
--- must_die
--- error_log eval
qr/\[emerg\].*ddt_test_now/



=== TEST 11: ddt_session_timeout: a GET does not renew the session
--- http_config
    ddt_session_timeout 2s;
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"conf-ttl-0003\"}",
"GET /v1/sessions/conf-ttl-0003",
"GET /v1/sessions/conf-ttl-0003",
]
--- wait: 1.3
--- error_code eval
[201, 200, 404]
--- json eval
[ undef, { version => 1 }, { 'error.code' => 'session_not_found' } ]
--- no_error_log
[error]
