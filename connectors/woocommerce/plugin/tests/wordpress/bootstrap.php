<?php
/**
 * Bootstraps the test site's WordPress through its wp-load.php (run-wordpress-tests.sh set it
 * up and exported where it is).
 *
 * @package RelaySms
 */

// WordPress expects these globals at file scope; PHPUnit includes this file from a method.
global $wpdb, $wp_rewrite, $wp, $wp_query, $wp_the_query, $wp_filter, $wp_actions, $wp_current_filter,
	$wp_roles, $wp_locale, $shortcode_tags, $current_user, $pagenow, $table_prefix, $wp_version,
	$wp_db_version, $allowedposttags, $allowedtags, $menu, $submenu, $_wp_submenu_nopriv,
	$_registered_pages, $_parent_pages, $admin_page_hooks, $wp_settings_sections, $wp_settings_fields,
	$wp_settings_errors, $new_whitelist_options, $allowed_options, $wp_registered_settings, $plugin_page;

foreach ( array( 'RELAY_SMS_WP_ROOT', 'RELAY_SMS_WP_URL', 'RELAY_SMS_RELAY_URL', 'RELAY_SMS_WORK' ) as $relay_sms_var ) {
	if ( ! getenv( $relay_sms_var ) ) {
		fwrite( STDERR, "$relay_sms_var is not set: run connectors/woocommerce/plugin/run-wordpress-tests.sh\n" );
		exit( 1 );
	}
}
$relay_sms_url          = getenv( 'RELAY_SMS_WP_URL' );
$_SERVER['HTTP_HOST']   = parse_url( $relay_sms_url, PHP_URL_HOST ) . ':' . parse_url( $relay_sms_url, PHP_URL_PORT );
$_SERVER['SERVER_NAME'] = '127.0.0.1';
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['REQUEST_METHOD'] = 'GET';

require getenv( 'RELAY_SMS_WP_ROOT' ) . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/admin.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
