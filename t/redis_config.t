# t/redis_config.t: the ddt_redis* directives at configuration time (issue
# 5): mistakes stop nginx with a message that names them; a Redis that is
# down at start does not stop nginx (it answers 503 and health 503 until
# Redis is there); an address is resolved when the configuration is read.
use FindBin;
use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use DDTTest;
use DDTRedis;
use IO::Socket::INET;
use IO::Select;

no_shuffle();

# a port where nothing listens
$ENV{TEST_NGINX_DEAD_PORT} = DDTRedis::free_port();

our $Redis = DDTRedis::start_redis();
$ENV{TEST_NGINX_REDIS_PORT} = $Redis->{port};

DDTTest::defaults(
    config => $DDTTest::ApiConfig,
    more_headers => "Content-Type: application/json",
);

run_tests();

__DATA__

=== TEST 1: ddt_redis and ddt_redis_sentinel together stop nginx at start
--- http_config
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
    ddt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    ddt_redis_sentinel 127.0.0.1:26379 master=x;
--- request
GET /v1/health
--- must_die
--- error_log eval
qr/\[emerg\].*ddt_redis_sentinel.*is duplicate/



=== TEST 2: ddt_redis_sentinel without master= stops nginx at start
--- http_config
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
    ddt_redis_sentinel 127.0.0.1:26379;
--- request
GET /v1/health
--- must_die
--- error_log eval
qr/\[emerg\].*ddt_redis_sentinel.*needs master=NAME/



=== TEST 3: a pool size out of range stops nginx at start
--- http_config
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
    ddt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    ddt_redis_pool_size 0;
--- request
GET /v1/health
--- must_die
--- error_log eval
qr/\[emerg\].*ddt_redis_pool_size must be 1\.\.64/



=== TEST 4: an address that does not resolve stops nginx at start
--- http_config
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
    ddt_redis no-such-host.invalid:6379;
--- request
GET /v1/health
--- must_die
--- error_log eval
qr/\[emerg\].*no-such-host\.invalid/



=== TEST 5: Redis down at start: nginx starts, health and session requests answer 503 store_unavailable
--- http_config
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
    ddt_redis 127.0.0.1:$TEST_NGINX_DEAD_PORT;
--- request eval
[
"GET /v1/health",
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"cfg-dead-00001\"}",
"GET /v1/sessions/cfg-dead-00001",
"GET /v1/projects",
]
--- error_code eval
[503, 503, 503, 200]
--- json eval
[ { 'error.code' => 'store_unavailable' }, { 'error.code' => 'store_unavailable' },
  { 'error.code' => 'store_unavailable' }, { 'projects.0.name' => 'echo' } ]
--- no_error_log
[alert]
[crit]



=== TEST 6: a host name is resolved when the configuration is read (localhost), the store works
--- http_config
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
    ddt_redis localhost:$TEST_NGINX_REDIS_PORT;
    ddt_redis_database 3;
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"cfg-local-0001\"}",
"GET /v1/health",
]
--- error_code eval
[201, 200]
--- after eval
{
    0 => sub {
        my $name = $_[0]->name;
        Test::More::is(DDTRedis::cmd($main::Redis->{port}, 'EXISTS', DDTRedis::key('s', 'cfg-local-0001')), 0,
                       "$name - not in database 0");
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $main::Redis->{port}) or die;
        print {$s} "*2\r\n\$6\r\nSELECT\r\n\$1\r\n3\r\n*2\r\n\$6\r\nEXISTS\r\n\$" . length(DDTRedis::key('s', 'cfg-local-0001'))
                   . "\r\n" . DDTRedis::key('s', 'cfg-local-0001') . "\r\n";
        my $got = '';
        my $sel = IO::Select->new($s);
        while ($got !~ /\r\n:\d+\r\n/ && $sel->can_read(3)) {
            sysread($s, $got, 512, length $got) or last;
        }
        Test::More::like($got, qr/^\+OK\r\n:1\r\n/, "$name - in database 3 (ddt_redis_database)");
    },
}
--- no_error_log
[error]



=== TEST 7: a password: AUTH on every connection; a wrong one is logged once and answers 503
--- http_config
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
    ddt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    ddt_redis_password wrong-secret;
--- request
POST /v1/sessions
{"project": "echo", "sessionId": "cfg-auth-00001"}
--- error_code: 503
--- error_log eval
qr/\[error\].*ddt: redis 127\.0\.0\.1:\d+: handshake refused: (WRONGPASS|ERR)/
--- no_error_log
[alert]
