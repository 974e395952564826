<?php
/**
 * Installs the throw-away test site (run by run-wordpress-tests.sh): WordPress itself, an
 * administrator and a shop manager (the role WooCommerce creates, with manage_woocommerce),
 * and the harness's Action Scheduler table.
 *
 * @package RelaySms
 */

$relay_sms_url = getenv( 'RELAY_SMS_WP_URL' );
$relay_sms_host = (string) parse_url( $relay_sms_url, PHP_URL_HOST ) . ':' . (string) parse_url( $relay_sms_url, PHP_URL_PORT );
$_SERVER['HTTP_HOST']   = $relay_sms_host;
$_SERVER['SERVER_NAME'] = '127.0.0.1';
$_SERVER['REQUEST_URI'] = '/wp-admin/install.php';
define( 'WP_INSTALLING', true );
require getenv( 'RELAY_SMS_WP_ROOT' ) . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

$relay_sms_result = wp_install( 'Relay SMS test shop', 'admin', 'admin@shop.test', false, '', 'admin-password', 'en_US' );
if ( ! empty( $relay_sms_result['user_id'] ) ) {
	update_option( 'siteurl', $relay_sms_url );
	update_option( 'home', $relay_sms_url );
	get_role( 'administrator' )->add_cap( 'manage_woocommerce' );
	add_role( 'shop_manager', 'Shop manager', array( 'read' => true, 'manage_woocommerce' => true, 'view_admin_dashboard' => true ) );
	wp_insert_user( array( 'user_login' => 'manager', 'user_pass' => 'manager-password', 'user_email' => 'manager@shop.test', 'role' => 'shop_manager' ) );
	if ( function_exists( 'relay_sms_test_actions_install' ) ) {
		relay_sms_test_actions_install();
	}
	echo "WordPress " . get_bloginfo( 'version' ) . " installed at $relay_sms_url\n";
	exit( 0 );
}
fwrite( STDERR, "wp_install failed\n" );
exit( 1 );
