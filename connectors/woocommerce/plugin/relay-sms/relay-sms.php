<?php
/**
 * Plugin Name:       Relay SMS for WooCommerce
 * Plugin URI:        docs/connectors/woocommerce.md
 * Description:       SMS-marketing consent at checkout (classic and block) and abandoned-cart reminders for customers who agreed, sent through your SMS relay.
 * Version:           1.1.0
 * Requires at least: 6.1
 * Requires PHP:      7.4
 * Requires Plugins:  woocommerce
 * WC requires at least: 8.9
 * WC tested up to:   9.4
 * Author:            Relay
 * License:           GPL-2.0-or-later
 * License URI:       https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:       relay-sms
 * Domain Path:       /languages
 *
 * Relay SMS for WooCommerce is free software: you can redistribute it and/or modify it under
 * the terms of the GNU General Public License as published by the Free Software Foundation,
 * either version 2 of the License, or (at your option) any later version.
 *
 * Relay SMS for WooCommerce is distributed in the hope that it will be useful, but WITHOUT ANY
 * WARRANTY; without even the implied warranty of MERCHANTABILITY or FITNESS FOR A PARTICULAR
 * PURPOSE. See the GNU General Public License for more details.
 *
 * @package RelaySms
 */

defined( 'ABSPATH' ) || exit;

define( 'RELAY_SMS_VERSION', '1.1.0' );
define( 'RELAY_SMS_FILE', __FILE__ );

require_once __DIR__ . '/includes/class-relay-sms-event-builder.php';
require_once __DIR__ . '/includes/class-relay-sms-consent.php';
require_once __DIR__ . '/includes/class-relay-sms-abandonment.php';
require_once __DIR__ . '/includes/class-relay-sms-relay-url.php';
require_once __DIR__ . '/includes/class-relay-sms-settings.php';
require_once __DIR__ . '/includes/class-relay-sms-client.php';
require_once __DIR__ . '/includes/class-relay-sms-queue.php';
require_once __DIR__ . '/includes/class-relay-sms-jobs.php';
require_once __DIR__ . '/includes/class-relay-sms-privacy.php';
require_once __DIR__ . '/includes/class-relay-sms-admin.php';
require_once __DIR__ . '/includes/class-relay-sms-checkout.php';
require_once __DIR__ . '/includes/class-relay-sms-carts.php';
require_once __DIR__ . '/includes/class-relay-sms-install.php';

// HPOS (custom order tables) and the cart/checkout blocks are supported.
add_action(
	'before_woocommerce_init',
	function () {
		if ( class_exists( '\Automattic\WooCommerce\Utilities\FeaturesUtil' ) ) {
			\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'custom_order_tables', RELAY_SMS_FILE, true );
			\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'cart_checkout_blocks', RELAY_SMS_FILE, true );
		}
	}
);

register_activation_hook( __FILE__, array( 'Relay_SMS_Install', 'activate' ) );
register_deactivation_hook( __FILE__, array( 'Relay_SMS_Install', 'deactivate' ) );

add_action(
	'init',
	function () {
		load_plugin_textdomain( 'relay-sms', false, dirname( plugin_basename( RELAY_SMS_FILE ) ) . '/languages' );
	},
	1
);

// Jobs, the queue and privacy work without WooCommerce too: queued consent records still
// reach the relay while WooCommerce is switched off.
Relay_SMS_Install::init();
Relay_SMS_Jobs::init();
Relay_SMS_Privacy::init();

add_action(
	'plugins_loaded',
	function () {
		Relay_SMS_Settings::init();
		Relay_SMS_Admin::init();
		if ( ! class_exists( 'WooCommerce' ) ) {
			add_action(
				'admin_notices',
				function () {
					if ( current_user_can( 'activate_plugins' ) ) {
						echo '<div class="notice notice-warning"><p>' . esc_html__( 'Relay SMS needs WooCommerce: the consent box and cart reminders are off until WooCommerce is active.', 'relay-sms' ) . '</p></div>';
					}
				}
			);
			return;
		}
		Relay_SMS_Checkout::init();
		Relay_SMS_Carts::init();
	}
);
