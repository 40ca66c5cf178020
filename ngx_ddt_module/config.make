# ngx_ddt_module/config.make: sourced by nginx's configure after the
# Makefile is written.  Regenerates the Redis scripts' header when a
# lua/*.lua script (or the generator) changes, without reconfiguring.

cat <<END >>$NGX_MAKEFILE

$NGX_OBJS/ngx_http_ddt_redis_scripts.h: $ngx_addon_dir/lua2c.sh \\
	`echo $ngx_addon_dir/lua/*.lua`
	sh $ngx_addon_dir/lua2c.sh \$@ $ngx_addon_dir/lua

END
