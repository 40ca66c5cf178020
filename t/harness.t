# t/harness.t: the Test::Nginx features our suites rely on, on plain nginx
# directives.  It passes under the real Test::Nginx and under t/lib's
# fallback alike; when the fallback drifts from the real one, this says so
# before a ddt suite gives a confusing answer.
use Test::Nginx::Socket 'no_plan';

no_shuffle();

run_tests();

__DATA__

=== TEST 1: one request, exact body, headers present and absent
--- config
    location = /a { add_header X-Here yes; return 200 "hello\n"; }
--- request
GET /a
--- response_body
hello
--- response_headers
X-Here: yes
!X-Not-Here
--- no_error_log
[error]



=== TEST 2: several requests, each with its own expectations and headers
--- config
    location = /a { return 201 "A:$http_x_one"; }
    location = /b { return 404 "B:$http_x_one"; }
--- request eval
["GET /a", "POST /b\n{\"x\": 1}"]
--- more_headers eval
["X-One: first", "X-One: second"]
--- error_code eval
[201, 404]
--- response_body eval
["A:first", "B:second"]



=== TEST 3: pipelined requests share one connection
--- config
    location = /a { return 200 "A$connection_requests"; }
--- pipelined_requests eval
["GET /a", "GET /a", "GET /a"]
--- response_body eval
["A1", "A2", "A3"]



=== TEST 4: a request in packets with a pause, body trimmed and measured
--- config
    location = /len { return 200 "len=$http_content_length"; }
--- request eval
[["POST /len\n  abc", { value => "def", delay_before => 0.2 }]]
--- response_body: len=6



=== TEST 5: a configuration nginx refuses: must_die and the log line
--- config
    location = /a { no_such_directive_here; }
--- request
GET /a
--- must_die
--- error_log
unknown directive "no_such_directive_here"



=== TEST 6: a line expected in the error log
--- config
    location = /a { deny all; }
--- request
GET /a
--- error_code: 403
--- error_log
access forbidden by rule
